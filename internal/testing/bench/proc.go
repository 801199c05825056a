package bench

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/serve-launch/serve-launch/internal/admin"
)

// FreePort returns a TCP port on 127.0.0.1 that nothing listens on now.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Group is a process started in a process group of its own, so that killing
// it also kills haproxy's workers.
type Group struct {
	Cmd   *exec.Cmd
	Start time.Time
	// StartNS is [Monotonic] right before the fork: the clock the stamp
	// reads, so the two subtract.
	StartNS int64
	// Exited is closed when the process exits; State is then its status.
	Exited chan struct{}
	State  *os.ProcessState
}

// Spawn starts argv (argv[0] is the path run, and also the process's argv[0],
// which is how the shim knows it is haproxy) with env; its stdout and stderr
// go to out (nil discards them). extra become its fds 3 and on.
func Spawn(argv []string, env []string, out *os.File, extra ...*os.File) (*Group, error) {
	cmd := &exec.Cmd{Path: argv[0], Args: argv, Env: env, ExtraFiles: extra}
	if out != nil {
		cmd.Stdout, cmd.Stderr = out, out
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	start, ns := time.Now(), Monotonic()
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	g := &Group{Cmd: cmd, Start: start, StartNS: ns, Exited: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		g.State = cmd.ProcessState
		close(g.Exited)
	}()
	return g, nil
}

// Kill SIGKILLs the whole group and waits, bounded, until no member is left,
// so the next run can bind the same ports and socket.
func (g *Group) Kill() error {
	pid := g.Cmd.Process.Pid
	_ = syscall.Kill(-pid, syscall.SIGKILL)
	<-g.Exited
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if !groupAlive(pid) {
			return nil
		}
		time.Sleep(time.Millisecond)
	}
	return fmt.Errorf("process group %d still alive 5s after SIGKILL", pid)
}

// groupAlive reports whether a process of group pgid is still running.
// Zombies do not count: haproxy's workers are orphaned when the master dies,
// and a container's PID 1 may take its time reaping them, but a zombie
// whose threads have all exited holds no socket.
func groupAlive(pgid int) bool {
	if err := syscall.Kill(-pgid, 0); errors.Is(err, syscall.ESRCH) {
		return false
	}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return true
	}
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		state, pgrp := procStat("/proc/" + e.Name() + "/stat")
		if pgrp != pgid {
			continue
		}
		if state != "Z" && state != "X" {
			return true
		}
		// A killed multi-threaded process (haproxy with nbthread) shows its
		// leader as a zombie while other threads are still exiting and
		// still hold the listening sockets.
		tasks, _ := os.ReadDir("/proc/" + e.Name() + "/task")
		for _, t := range tasks {
			if st, _ := procStat("/proc/" + e.Name() + "/task/" + t.Name() + "/stat"); st != "" && st != "Z" && st != "X" {
				return true
			}
		}
	}
	return false
}

// procStat reads the state and process group from a /proc stat file.
func procStat(path string) (state string, pgrp int) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", 0
	}
	// After the command name in parentheses: state ppid pgrp ...
	i := strings.LastIndexByte(string(data), ')')
	if i < 0 {
		return "", 0
	}
	f := strings.Fields(string(data[i+1:]))
	if len(f) < 3 {
		return "", 0
	}
	pgrp, _ = strconv.Atoi(f[2])
	return f[0], pgrp
}

// WaitShowInfo polls `show info` every millisecond until it answers and
// returns the time since start. The 1 ms poll (Ray polls every 0.5 s) keeps
// the measurement's own granularity far below the start times compared.
func WaitShowInfo(ctx context.Context, socket string, start time.Time, exited <-chan struct{}) (time.Duration, error) {
	for {
		actx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
		_, err := admin.ShowInfo(actx, socket)
		cancel()
		if err == nil {
			return time.Since(start), nil
		}
		select {
		case <-ctx.Done():
			return 0, fmt.Errorf("show info never answered: %v", err)
		case <-exited:
			return 0, fmt.Errorf("the process exited before show info answered: %v", err)
		case <-time.After(time.Millisecond):
		}
	}
}

// VmHWM returns the peak resident set of a live process, from
// /proc/PID/status, in KiB.
func VmHWM(pid int) (int, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			return strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
		}
	}
	return 0, fmt.Errorf("/proc/%d/status has no VmHWM", pid)
}
