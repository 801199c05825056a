// Package raycfg is what Ray Serve writes for haproxy, emulated: the
// generated config ([Render]) in three shapes, the RAY_SERVE_HAPROXY_*
// settings it reads ([ReadEnv]), and the files it puts beside the config
// ([WriteConfig], [PrepareDirs]).
//
// It is written from the Ray sources summarised in shared/RAY-HAPROXY.md
// (haproxy_templates.py @98a13be and @00526a2), not Ray itself: nothing it
// produces is a Ray result. The shapes are [ShapeV1] (the first OSS
// template), [Shape255] (V1 plus RAY_SERVE_HAPROXY_TCP_NODELAY and
// RAY_SERVE_HAPROXY_BALANCE_ALGORITHM) and [ShapeMaster] (late May 2026),
// with the jinja whitespace quirks (four-space lines for unset timeouts,
// two-space `listen stats`, blank lines in the gRPC frontend). The file
// write follows Ray's: under flock(<cfg>.lock), rewriting in place.
//
// It is separate from package raysim, which emulates Ray's processes and
// replicas, so the serve-launch binary (preflight, migrate, check --audit)
// can render Ray's shape without linking raysim's HTTP servers: net/http
// alone adds about 1 ms and 3 MB to every process start, and the shim
// starts once per haproxy start.
//
// Reconstructions and assumptions, where the stored sources stop:
//   - Shape255 is inferred (RAY-HAPROXY.md §5): `option http-no-delay` sits
//     where master puts it (after abortonclose), `balance` is the last
//     defaults line, and the backends lose V1's `balance leastconn`.
//   - TCP_NODELAY defaults to off in 2.55 and V1, on in master (#63353).
//   - The /-/healthz messages ("success", "This node is being drained.", ...)
//     are Ray's proxy constants as remembered, not read from a stored file.
//   - master's H2 tuning defaults and the router timeout/bufsize defaults are
//     not in the stored sources; haproxy's own defaults (and 5 s / 64 KiB) are
//     used. The ingress router's Lua script is a stub that registers the
//     action and routes nothing.
//   - Stats port: real 2.55 hard-codes 8404; here it can be overridden so
//     tests use free ports.
package raycfg
