// Package raysim emulates what Ray Serve does to haproxy, so serve-launch can
// be tested and demonstrated without Ray (which cannot be installed here).
//
// It is an emulation of Ray's process contract, written from Ray's sources
// (python/ray/serve/_private/haproxy.py in ray-project/ray at 4cc9dc6 and
// 00526a2; docs/ray-contract.md says what was read and what this relies
// on), not Ray itself: nothing it produces is a Ray result. The config Ray
// generates is package raycfg; this package covers the processes:
//   - the process handling of HAProxyManager ([Manager]): the config written
//     with raycfg.WriteConfig (in the master shape under `<dir>/<node_id>/`,
//     with the admin socket and server state, as master's _per_node does), argv
//     `<bin> -db -f <cfg> [-dR] [-sf <pid> [-x <sock>]]`, stdout and stderr
//     piped and never read (so a chatty haproxy can fill them, as in 2.55),
//     readiness by `show info` every 0.5 s for 5 s, reloads on every routing
//     change, SIGKILL to every tracked process on stop;
//   - Ray's start sequence (unless [SimConfig.RoutesAtStart]): the first
//     haproxy runs a config with no applications, which arrive by a reload;
//   - replicas ([Replica]): HTTP servers answering /-/healthz and /health,
//     counting requests in flight;
//   - `serve run` itself, as far as haproxy can tell ([RunSim], the raysim
//     command).
package raysim
