// Package raycfg is what Ray Serve writes for haproxy, emulated: the
// generated config ([Render]) in three shapes, the RAY_SERVE_HAPROXY_*
// settings it reads ([ReadEnv]), and the files it puts beside the config
// ([WriteConfig], [PrepareDirs]).
//
// It is written from Ray's sources (python/ray/serve/_private/
// haproxy_templates.py, haproxy.py and constants.py in ray-project/ray at
// 98a13be and 00526a2), not Ray itself: nothing it produces is a Ray
// result. The shapes are [ShapeV1] (the first OSS template), [Shape255]
// (V1 plus RAY_SERVE_HAPROXY_TCP_NODELAY and
// RAY_SERVE_HAPROXY_BALANCE_ALGORITHM) and [ShapeMaster] (late May 2026).
// Each is a text/template file under templates/, our counterpart of Ray's
// Jinja template of that release, with its whitespace quirks (four-space
// lines for unset timeouts, two-space `listen stats`, blank lines in the
// gRPC frontend). Ray's defaults, per release, come from package envmap's
// table, which the variable table of docs/reference.md is generated from.
// The file write follows Ray's: under flock(<cfg>.lock), rewriting in
// place.
//
// It is separate from package raysim, which emulates Ray's processes and
// replicas, so the serve-launch binary (preflight, migrate, check --audit)
// can render Ray's shape without linking raysim's HTTP servers: the shim
// starts once per haproxy start, and BENCHMARKS.md says what net/http
// cost each start.
//
// Reconstructions and assumptions, where the sources read stop:
//   - Shape255 is inferred from V1, master and the pull requests between
//     them: `option http-no-delay` sits where master puts it (after
//     abortonclose), `balance` is the last defaults line, and the backends
//     lose V1's `balance leastconn`.
//   - TCP_NODELAY defaults to off in 2.55 and V1, on in master (#63353).
//   - The /-/healthz messages ("success", "This node is being drained.", ...)
//     are Ray's proxy constants as remembered, not read from a stored file.
//   - master's H2 tuning defaults and the router timeout/bufsize defaults are
//     not in the sources read; envmap's table assumes haproxy's own defaults
//     (and 5 s / 64 KiB). The ingress router's Lua script is a stub that
//     registers the action and routes nothing.
//   - Stats port: real 2.55 hard-codes 8404; here it can be overridden so
//     tests use free ports.
package raycfg
