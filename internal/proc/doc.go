// Package proc runs processes for serve-launch: the haproxy shim that Ray
// executes in place of haproxy, the state directory where the shim keeps the
// generated and patched configuration of every haproxy it started, hot reload
// of those haproxy processes, and supervision of the child command (`serve
// run ...`) that the launcher wraps.
//
// # The shim
//
// Ray runs `haproxy -db -f CFG [-dR] [-sf PID [-x SOCK]]`. The launcher points
// RAY_SERVE_HAPROXY_BINARY_PATH (and a `haproxy` entry first on PATH, see
// [ShimDir]) at serve-launch, which then calls [RunShim]. The shim parses
// haproxy's argv ([ParseHAProxyArgs]), reads each configuration file under
// Ray's lock ([ReadLocked]), patches it with the caller's [Patcher], writes
// the generated and patched copies into the state directory ([StateDir]) and
// execs the real haproxy with `-f PATCHED` and `-W` added: the PID Ray
// started becomes haproxy's master, so `-sf`, SIGKILL and Ray's PID checks
// all reach the process that serves. With several -f files each is patched on
// its own (the Patcher sees one file at a time); Ray only ever passes one.
//
// On a reload the shim also adds to -sf every older haproxy master still
// running the same configuration (olderMasters): Ray 2.55 takes the old
// haproxy answering `show info` for the new one being ready, so a quick
// second reload can stop a haproxy that had not yet stopped its own
// predecessor, which would otherwise serve stale servers until Ray stops.
// Before all that, a reload's shim waits, bounded by [StartWait], for the
// haproxy Ray names after -sf to finish starting (waitStarted): with -W a
// haproxy whose -x fails binds afresh rather than exiting, and two starting
// at once could leave the admin socket path to the one stopped next. The
// wait also keeps the shims of quick reloads in Ray's order.
//
// The shim is quiet: Ray 2.55 never drains haproxy's stdout and stderr, so it
// logs to shim.log in the state directory and writes to stderr only when it
// fails before exec, which Ray shows in its error.
//
// # Patch errors
//
// With [OnPatchErrorFail] (the default) a patch failure fails the haproxy
// start: the message names the snippet, nothing is exec'd and the haproxy
// already running (on a reload) is left alone, still serving the previous
// patched config, since Ray only stops it after the new one is up. The
// trade-off: Ray then treats the start as failed and keeps routing with stale
// servers until the snippet is fixed. [OnPatchErrorPassthrough] instead runs
// the unpatched generated file with a loud warning in shim.log: traffic keeps
// following Ray's routing, but the user's settings silently stop applying
// until the next successful patch, and hot reload skips such an instance.
//
// # Hot reload
//
// [Watch] notices changes to the overrides directory; [ReloadAll] re-patches
// the latest generated file of every live instance, checks the candidate
// with `haproxy -c`, saves `show servers state` to the configured server-state
// file, replaces patched.cfg and sends SIGUSR2 to the master, which re-execs
// in place and re-reads patched.cfg. Each reload also drains the stdout and
// stderr pipes Ray gave haproxy and never reads (into shim.log): a SIGUSR2
// reload prints about 440 bytes there, and a full pipe would block haproxy.
// Reloads of one instance are serialised by a lock in its directory, which
// the shim also takes, so a hot reload and Ray's own restart never write
// patched.cfg at the same time.
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
// asyncio.create_subprocess_exec from its actor (RAY-HAPROXY.md section 2),
// so from the actor's event loop thread, which lives as long as the actor.
package proc
