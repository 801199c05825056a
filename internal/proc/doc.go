//go:build linux

// Package proc is the process side of serve-launch: the launcher's
// supervision of the command it wraps (`serve run ...`), and beneath it one
// package a concern:
//
//   - [github.com/serve-launch/serve-launch/internal/proc/shim]: the haproxy
//     Ray runs under the launcher: its argv, the exec into the real haproxy
//     with the parent-death signal, older masters, and the launcher-to-shim
//     environment contract;
//   - [github.com/serve-launch/serve-launch/internal/proc/state]: the state
//     directory: instance records, event slots, locks, status, and the guard
//     that keeps the directory in place while the launcher runs;
//   - [github.com/serve-launch/serve-launch/internal/proc/hotreload]: the
//     watch of the overrides directory and the hot reload of running
//     haproxy masters;
//   - [github.com/serve-launch/serve-launch/internal/proc/procfs]: what
//     /proc says of a process.
//
// None of them imports the snippet engine: what a start patches comes in
// through a [shim.Patcher], which the caller provides. All of them are
// Linux-only (/proc, prctl(2), renameat2(2)), as Ray's HAProxy mode is.
//
// # Supervision and SIGHUP
//
// [Supervisor] runs the child in its own process group and forwards SIGINT,
// SIGTERM and SIGQUIT to that group, then SIGKILLs it after a grace period.
// SIGHUP means "reload the overrides" when [Supervisor].OnReload is set (what
// `serve-launch run` does, like haproxy and nginx): Python's default action
// for SIGHUP is to die, so forwarding it to `serve run` would stop Ray rather
// than reload anything. Without OnReload, SIGHUP is forwarded like the
// others.
//
// # When something is SIGKILLed
//
// A SIGKILLed process runs no cleanup, so nothing started under the launcher
// relies on its parent's cleanup alone:
//   - the child carries a parent-death signal (PR_SET_PDEATHSIG, SIGKILL)
//     set by [Supervisor], so it dies with the launcher; the kernel sends it
//     when the forking thread exits, which is why Run keeps its goroutine on
//     that thread until the child is reaped;
//   - the shim sets the same signal on itself just before it execs haproxy
//     (it survives execve and haproxy's re-exec on SIGUSR2, haproxy not being
//     set-user-ID), so the haproxy master dies with the Ray process that
//     started it; the shim refuses to exec when its parent is already gone;
//   - haproxy's workers exit when their master dies (master-worker mode);
//   - when only the child dies, the Supervisor kills every haproxy recorded
//     under this launcher in the state directory, which also covers a
//     haproxy whose starter outlived the child.
//
// The parent-death signal is tied to the thread that forked: if Ray ever
// started haproxy from a thread that exits while haproxy should keep
// running, haproxy would be killed with it. Ray's HAProxyManager spawns with
// asyncio.create_subprocess_exec from its actor, so from the actor's event
// loop thread, which lives as long as the actor.
package proc
