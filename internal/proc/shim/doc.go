//go:build linux

// Package shim is the haproxy that Ray runs under `serve-launch run`.
//
// Ray runs `haproxy -db -f CFG [-dR] [-sf PID [-x SOCK]]`. The launcher points
// RAY_SERVE_HAPROXY_BINARY_PATH (and a `haproxy` entry first on PATH, see
// [state.ShimDir]) at serve-launch-shim, which calls [RunShim]. Its path reads
// top to bottom: parse haproxy's argv ([ParseHAProxyArgs]); open the state
// directory and the instance; say "starting" in the instance's event slot;
// wait for the haproxy Ray names after -sf to finish starting; lock the
// instance; read each configuration file under Ray's lock
// ([state.ReadLocked]) and patch it with the caller's [Patcher]; write the
// patched copy and the record; exec the real haproxy with `-f PATCHED` and
// `-W` added. The PID Ray started becomes haproxy's master, so `-sf`,
// SIGKILL and Ray's PID checks all reach the process that serves.
//
// A start Ray makes never fails because of a snippet: Ray 2.55 can take a
// new process that exits for ready (the old haproxy answers its `show
// info`) and then fails every later reload on the dead process. So the
// Patcher never fails (a bad snippet file is left out), and what cannot be
// written runs Ray's file as it is; only an unusable real haproxy or argv
// ends the shim without an exec.
//
// On a reload the shim also adds to -sf every older haproxy master still
// running the same configuration (olderMasters): Ray 2.55 can reload faster
// than a new haproxy takes over, and a predecessor left behind would serve
// stale servers until Ray stops. Before that, a reload's shim waits,
// bounded by [StartWait], for the haproxy Ray names after -sf to finish
// starting ([WaitStarted]): with -W a haproxy whose -x fails binds afresh
// rather than exiting, and two starting at once could leave the admin
// socket path to the one stopped next.
//
// The shim is quiet: Ray 2.55 never drains haproxy's stdout and stderr, so
// it logs to shim.log in the instance directory and writes to stderr only
// when it has nowhere else.
//
// The launcher tells the shim everything through SERVE_LAUNCH_* variables
// ([ShimEnv], [ChildEnv]); the shim never asks the launcher anything, so a
// start never waits on it.
package shim
