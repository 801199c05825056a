// Package raysim emulates what Ray Serve does to haproxy, so serve-launch can
// be tested and demonstrated without Ray (which cannot be installed here).
//
// It is an emulation of Ray's process contract, written from the Ray sources
// summarised in shared/RAY-HAPROXY.md (haproxy.py @4cc9dc6 and @00526a2,
// haproxy_templates.py @98a13be and @00526a2), not Ray itself: nothing it
// produces is a Ray result. It covers what haproxy sees from Ray:
//   - the generated config ([Render]) in three shapes: [ShapeV1] (the first
//     OSS template), [Shape255] (V1 plus RAY_SERVE_HAPROXY_TCP_NODELAY and
//     RAY_SERVE_HAPROXY_BALANCE_ALGORITHM) and [ShapeMaster] (late May 2026),
//     with the jinja whitespace quirks (four-space lines for unset
//     timeouts, two-space `listen stats`, blank lines in the gRPC frontend);
//   - the file write under flock(<cfg>.lock) with an in-place rewrite
//     ([WriteConfig]) and 500.http beside the config ([PrepareDirs]);
//   - the process handling of HAProxyManager ([Manager]): argv
//     `<bin> -db -f <cfg> [-dR] [-sf <pid> [-x <sock>]]`, stdout and stderr
//     piped and never read (so a chatty haproxy can fill them, as in 2.55),
//     readiness by `show info` every 0.5 s for 5 s, reloads on every routing
//     change, SIGKILL to every tracked process on stop;
//   - replicas ([Replica]): HTTP servers answering /-/healthz and /health,
//     counting requests in flight;
//   - `serve run` itself, as far as haproxy can tell ([RunSim], the raysim
//     command).
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
package raysim
