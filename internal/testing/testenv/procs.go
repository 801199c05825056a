package testenv

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ProcessesMentioning lists the live PIDs (zombies left out) whose
// /proc/PID/cmdline contains sub and, when comm is set, whose
// /proc/PID/comm is comm. With sub a test's temp dir it finds everything
// the test started, however deep below the launcher, since each child is
// told paths inside that dir.
func ProcessesMentioning(sub, comm string) []int {
	ents, _ := os.ReadDir("/proc")
	var pids []int
	self := os.Getpid()
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self {
			continue
		}
		cl, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || !strings.Contains(string(cl), sub) {
			continue
		}
		if comm != "" {
			c, err := os.ReadFile(filepath.Join("/proc", e.Name(), "comm"))
			if err != nil || strings.TrimSpace(string(c)) != comm {
				continue
			}
		}
		if isZombie(pid) {
			continue
		}
		pids = append(pids, pid)
	}
	return pids
}

// KillMentioning SIGKILLs every process ProcessesMentioning(sub, "") finds:
// the last sweep of a test's cleanup, for what its launcher left behind.
func KillMentioning(sub string) {
	for _, pid := range ProcessesMentioning(sub, "") {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
}

// isZombie reports whether pid has exited and only waits to be reaped (or
// is gone): such a process holds no port and serves nothing.
func isZombie(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] == 'Z' || s[i+2] == 'X'
}

// Alive reports whether pid runs: it exists and is not a zombie.
func Alive(pid int) bool {
	return pid > 0 && syscall.Kill(pid, 0) == nil && !isZombie(pid)
}

// ParentOf reads pid's parent from /proc/PID/stat; the error says pid is
// gone (or its stat unreadable). A haproxy worker that answered a command
// a moment ago may be an old one that exits right after its last session:
// polls take the error as one more try.
func ParentOf(pid int) (int, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	f := strings.Fields(s[i+1:])
	if i < 0 || len(f) < 2 {
		return 0, fmt.Errorf("/proc/%d/stat: unexpected %q", pid, s)
	}
	return strconv.Atoi(f[1])
}

// WaitGone waits, bounded, for processes that need not be our children to
// stop running; the error lists those still running at timeout.
func WaitGone(pids []int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		var left []int
		for _, p := range pids {
			if Alive(p) {
				left = append(left, p)
			}
		}
		if len(left) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("still running after %s: %v", timeout, left)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
