//go:build linux

package proc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"syscall"
	"time"

	"github.com/serve-launch/serve-launch/internal/proc/procfs"
	"github.com/serve-launch/serve-launch/internal/proc/state"
	"golang.org/x/sys/unix"
)

// DefaultGracePeriod is how long [Supervisor] waits after forwarding a stop
// signal before it SIGKILLs the child's process group.
const DefaultGracePeriod = 10 * time.Second

// Supervisor runs one child command (`serve run ...`, `ray start ...`) the
// way an init process would: in its own process group, with stop signals
// forwarded to that group, the child's exit status as its own, zombies
// reaped, and nothing started under it left running when it exits.
//
// It reaps with wait4 itself rather than through os/exec, so that orphans
// reparented to it (it makes itself a child subreaper, and may be PID 1 in a
// container) are collected too. Only processes outside the launcher's own
// process group are reaped, so the launcher may still run short commands
// with os/exec (like `haproxy -c`) meanwhile, as long as those do not ask
// for a new process group.
type Supervisor struct {
	// Path is the program to run; it is not looked up in PATH.
	Path string
	// Args is the full argv, Args[0] included.
	Args []string
	// Env is the child's environment; nil means os.Environ().
	Env []string
	// Dir is the child's working directory; empty means the current one.
	Dir string
	// Stdin, Stdout and Stderr default to the launcher's own.
	Stdin, Stdout, Stderr *os.File
	// GracePeriod is the wait between the first forwarded SIGINT, SIGTERM or
	// SIGQUIT (or the cancellation of Run's context, which sends SIGTERM)
	// and SIGKILL to the child's process group. Zero means
	// [DefaultGracePeriod].
	GracePeriod time.Duration
	// OnReload, when set, is what SIGHUP does: it is called (on a goroutine
	// of its own, never twice at once; a SIGHUP during a call queues one more
	// call) instead of SIGHUP being forwarded to the child. serve-launch run
	// sets it to reload the overrides. When nil, SIGHUP is forwarded.
	OnReload func()
	// StateDir, when set, is searched at exit for haproxy instances whose
	// launcher PID is this process; their masters and workers are killed
	// too, which covers a haproxy that Ray moved into a session of its own.
	StateDir *state.StateDir
	// Log receives one line per supervision event (signals, kills); nil
	// discards them.
	Log io.Writer
}

// Run starts the child and supervises it until it exits, then kills
// whatever it left behind. exitCode is the child's exit status, or 128+N
// when signal N killed it. err reports a failure to start the child
// (exitCode is then 127 when the program does not exist, 126 when it cannot
// be executed, 1 otherwise).
func (s *Supervisor) Run(ctx context.Context) (exitCode int, err error) {
	grace := s.GracePeriod
	if grace <= 0 {
		grace = DefaultGracePeriod
	}
	logf := func(format string, a ...any) {
		if s.Log != nil {
			fmt.Fprintf(s.Log, "serve-launch: "+format+"\n", a...)
		}
	}

	// Subscribe before the child exists so no SIGCHLD or stop signal is lost.
	sigs := make(chan os.Signal, 16)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGQUIT, syscall.SIGHUP, syscall.SIGCHLD)
	defer signal.Stop(sigs)

	// Orphans of the child (a haproxy whose Ray died, a daemonised helper)
	// are reparented to us instead of to init, so we can reap and kill them.
	subreaper := setSubreaper(true) == nil
	if subreaper {
		defer setSubreaper(false)
	}

	stdin, stdout, stderr := s.Stdin, s.Stdout, s.Stderr
	if stdin == nil {
		stdin = os.Stdin
	}
	if stdout == nil {
		stdout = os.Stdout
	}
	if stderr == nil {
		stderr = os.Stderr
	}
	env := s.Env
	if env == nil {
		env = os.Environ()
	}
	// The child gets SIGKILL should the launcher die without running any of
	// this (SIGKILL, OOM): the kernel sends a parent-death signal when the
	// thread that forked the child exits, so this goroutine keeps its thread
	// until the child has been reaped.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	proc, err := os.StartProcess(s.Path, s.Args, &os.ProcAttr{
		Dir:   s.Dir,
		Env:   env,
		Files: []*os.File{stdin, stdout, stderr},
		Sys:   &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL},
	})
	if err != nil {
		code := 1
		switch {
		case errors.Is(err, os.ErrNotExist):
			code = 127
		case errors.Is(err, os.ErrPermission):
			code = 126
		}
		return code, fmt.Errorf("start %s: %w", s.Path, state.CleanPathErr(err))
	}
	pid := proc.Pid
	// We wait with wait4 ourselves; the handle is not needed.
	proc.Release()
	pgid := pid

	reloads := make(chan struct{}, 1)
	reloadsDone := make(chan struct{})
	if s.OnReload != nil {
		go func() {
			defer close(reloadsDone)
			for range reloads {
				s.OnReload()
			}
		}()
	} else {
		close(reloadsDone)
	}

	var status *syscall.WaitStatus
	var killTimer <-chan time.Time
	stopping := false
	startStop := func() {
		if !stopping {
			stopping = true
			killTimer = time.After(grace)
		}
	}
	forward := func(sig syscall.Signal) {
		logf("forwarding %s to the child's process group %d", sig, pgid)
		if err := syscall.Kill(-pgid, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
			logf("forwarding %s: %v", sig, err)
		}
	}
	// A slow tick is the safety net should a SIGCHLD ever be coalesced away
	// while a wait4 was in progress.
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	done := ctx.Done()
	for status == nil {
		select {
		case sig := <-sigs:
			switch sig {
			case syscall.SIGCHLD:
			case syscall.SIGHUP:
				if s.OnReload != nil {
					select {
					case reloads <- struct{}{}:
					default: // one call is already queued
					}
				} else {
					forward(syscall.SIGHUP)
				}
			default:
				forward(sig.(syscall.Signal))
				startStop()
			}
		case <-done:
			done = nil
			forward(syscall.SIGTERM)
			startStop()
		case <-killTimer:
			logf("the child did not exit within %s; killing its process group", grace)
			syscall.Kill(-pgid, syscall.SIGKILL)
		case <-tick.C:
		}
		status = reap(pid, pgid)
	}
	close(reloads)

	switch {
	case status.Exited():
		exitCode = status.ExitStatus()
	case status.Signaled():
		exitCode = 128 + int(status.Signal())
	default:
		exitCode = 1
	}
	s.cleanup(pgid, logf)
	<-reloadsDone
	return exitCode, nil
}

// reap collects every exited child that belongs to the supervised tree and
// returns the main child's status once it has exited. Children in the
// launcher's own process group are left to whoever started them (os/exec).
func reap(pid, pgid int) *syscall.WaitStatus {
	var main *syscall.WaitStatus
	for {
		var ws syscall.WaitStatus
		got, err := syscall.Wait4(-pgid, &ws, syscall.WNOHANG, nil)
		if err == syscall.EINTR {
			continue
		}
		if err != nil || got <= 0 {
			break
		}
		if got == pid {
			w := ws
			main = &w
		}
	}
	reapOrphans(pgid)
	return main
}

// reapOrphans waits for zombie children that left the child's process group
// (setsid'd daemons reparented to us as subreaper or PID 1). Members of the
// child's group are left to wait4(-pgid), which must be the one to collect
// the main child's status.
func reapOrphans(pgid int) {
	self, own := os.Getpid(), syscall.Getpgrp()
	for _, p := range procfs.PIDs() {
		st, err := procfs.ReadStat(p)
		if err != nil || st.PPID != self || st.State != 'Z' || st.PGrp == own || st.PGrp == pgid {
			continue
		}
		var ws syscall.WaitStatus
		syscall.Wait4(p, &ws, syscall.WNOHANG, nil)
	}
}

// cleanup kills everything the child left: its process group, haproxy
// instances recorded with this launcher's PID, and orphans reparented to us;
// then reaps them. It is bounded: a process stuck in the kernel does not
// keep the launcher from exiting.
func (s *Supervisor) cleanup(pgid int, logf func(string, ...any)) {
	if err := syscall.Kill(-pgid, syscall.SIGKILL); err == nil {
		logf("killed what was left in process group %d", pgid)
	}
	if s.StateDir != nil {
		// state.Status lists every record it could read even when it reports an
		// error, so one unreadable instance.json does not spare the others.
		ins, err := state.Status(s.StateDir)
		if err != nil {
			logf("state dir: %v", err)
		}
		for _, in := range ins {
			if in.LauncherPID != os.Getpid() || !in.Alive {
				continue
			}
			logf("killing haproxy master %d (%s)", in.MasterPID, in.Generated)
			for _, w := range in.WorkerPIDs {
				procfs.Signal(w, syscall.SIGKILL)
			}
			procfs.Signal(in.MasterPID, syscall.SIGKILL)
		}
	}
	self, own := os.Getpid(), syscall.Getpgrp()
	deadline := time.Now().Add(3 * time.Second)
	for {
		left := 0
		for _, p := range procfs.PIDs() {
			st, err := procfs.ReadStat(p)
			if err != nil || st.PPID != self || st.PGrp == own {
				continue
			}
			left++
			if st.State != 'Z' {
				syscall.Kill(p, syscall.SIGKILL)
			}
		}
		for {
			var ws syscall.WaitStatus
			got, err := syscall.Wait4(-pgid, &ws, syscall.WNOHANG, nil)
			if err != nil || got <= 0 {
				break
			}
		}
		reapOrphans(pgid)
		// Processes of the group that are still alive get reparented to us
		// only when their parents die, so go on until the group is empty too.
		groupGone := errors.Is(syscall.Kill(-pgid, syscall.SIGKILL), syscall.ESRCH)
		if (left == 0 && groupGone) || time.Now().After(deadline) {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func setSubreaper(on bool) error {
	v := uintptr(0)
	if on {
		v = 1
	}
	return unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, v, 0, 0, 0)
}
