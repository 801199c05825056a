//go:build linux

package shim

import (
	"errors"
	"os"
	"runtime"
	"runtime/coverage"
	"syscall"

	"golang.org/x/sys/unix"
)

// execWithParentDeathSignal is the shim's real exec: it asks the kernel to
// SIGKILL this process when the thread that started it (Ray's, or raysim's)
// dies, then execs. The setting survives execve (haproxy is not set-user-ID)
// and haproxy's own re-exec on SIGUSR2, so the haproxy master dies with the
// process that started it even when that process is SIGKILLed and can run
// no cleanup; haproxy's workers follow their master. prctl and execve must
// run on the same OS thread, hence the lock. parent is the shim's parent PID
// read at its start: if it changed, the parent died before prctl and the
// signal would never come, so nothing is started.
func execWithParentDeathSignal(parent int) func(argv0 string, argv, env []string) error {
	return func(argv0 string, argv, env []string) error {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread() // only reached when exec failed
		if err := setParentDeathSignal(syscall.SIGKILL); err != nil {
			return err
		}
		if os.Getppid() != parent {
			return errors.New("the process that started haproxy has exited")
		}
		writeCoverage()
		return syscall.Exec(argv0, argv, env)
	}
}

func setParentDeathSignal(sig syscall.Signal) error {
	return unix.Prctl(unix.PR_SET_PDEATHSIG, uintptr(sig), 0, 0, 0)
}

// writeCoverage writes the coverage counters of a shim built with -cover
// (`make cover`) before exec ends the process, which would otherwise lose
// them. It does nothing unless GOCOVERDIR is set, and a binary built
// without -cover refuses the writes.
func writeCoverage() {
	if dir := os.Getenv("GOCOVERDIR"); dir != "" {
		_ = coverage.WriteMetaDir(dir)
		_ = coverage.WriteCountersDir(dir)
	}
}
