//go:build linux

package procfs

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Alive reports whether pid exists (a zombie counts as dead).
func Alive(pid int) bool {
	if pid <= 0 {
		return false
	}
	st, err := ReadStat(pid)
	return err == nil && st.State != 'Z' && st.State != 'X'
}

// Runs reports whether pid is alive and its command line names
// one of the files (so a recycled PID is never taken for our haproxy). A
// haproxy caught mid-exec counts: its command line is waited for (see
// ExecdArgs), so that status and the launcher's cleanup see it.
func Runs(pid int, files []string) bool {
	return NamesAny(ExecdArgs(pid), files)
}

// Args is the argv of a live pid, nil when it is gone or a zombie.
func Args(pid int) []string {
	if !Alive(pid) {
		return nil
	}
	cmdline, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "cmdline"))
	if err != nil || len(cmdline) == 0 {
		return nil
	}
	return strings.Split(strings.TrimRight(string(cmdline), "\x00"), "\x00")
}

// ExecWindow bounds how long ExecdArgs waits for an exec to finish: the
// command line reads empty for about 100 µs, longer on a loaded machine.
const ExecWindow = 250 * time.Millisecond

// ExecdArgs is Args once pid's exec has finished: a process caught
// mid-exec has an empty command line for a moment, which is waited out up
// to ExecWindow. It is nil when pid is gone, is a kernel thread (a reused
// PID; its command line is always empty), or is still empty after that.
func ExecdArgs(pid int) []string {
	deadline := time.Now().Add(ExecWindow)
	for {
		args := Args(pid)
		if args != nil || time.Now().After(deadline) {
			return args
		}
		if st, err := ReadStat(pid); err != nil || st.State == 'Z' || st.State == 'X' || st.KThread {
			return nil
		}
		// No event marks the end of another process's exec: poll, bounded.
		time.Sleep(time.Millisecond)
	}
}

// NamesAny reports whether one of args is one of files.
func NamesAny(args, files []string) bool {
	for _, a := range args {
		for _, f := range files {
			if f != "" && a == f {
				return true
			}
		}
	}
	return false
}

type Stat struct {
	State byte
	PPID  int
	PGrp  int
	// KThread marks a kernel thread, whose command line is always empty.
	KThread bool
}

// ReadStat reads state, parent and process group from /proc/PID/stat.
func ReadStat(pid int) (Stat, error) {
	data, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return Stat{}, err
	}
	// The command name is in parentheses and may contain spaces.
	i := bytes.LastIndexByte(data, ')')
	if i < 0 || i+2 >= len(data) {
		return Stat{}, errors.New("bad /proc stat")
	}
	f := strings.Fields(string(data[i+2:]))
	if len(f) < 7 {
		return Stat{}, errors.New("bad /proc stat")
	}
	ppid, _ := strconv.Atoi(f[1])
	pgrp, _ := strconv.Atoi(f[2])
	flags, _ := strconv.ParseUint(f[6], 10, 64)
	return Stat{State: f[0][0], PPID: ppid, PGrp: pgrp, KThread: flags&pfKthread != 0}, nil
}

// Catches reports whether pid has a handler for sig (the SigCgt mask of
// /proc/PID/status).
func Catches(pid int, sig syscall.Signal) bool {
	data, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "status"))
	if err != nil {
		return false
	}
	for _, l := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(l, "SigCgt:"); ok {
			mask, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			return err == nil && mask&(1<<(uint(sig)-1)) != 0
		}
	}
	return false
}

// WaitCatches waits, bounded by d, until pid has a handler for sig. A
// haproxy master installs its SIGUSR2 handler only after its worker is up
// and answering: a SIGUSR2 before that is lost (haproxy 2.6 did not reload
// at all), so a hot reload waits for the handler rather than for a worker.
func WaitCatches(pid int, sig syscall.Signal, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for !Catches(pid, sig) {
		if time.Now().After(deadline) || !Alive(pid) {
			return false
		}
		// No event marks a handler being installed: poll, bounded.
		time.Sleep(time.Millisecond)
	}
	return true
}

// pfKthread is the kernel's PF_KTHREAD process flag (/proc/PID/stat field 9).
const pfKthread = 0x00200000

// PIDs lists the numeric entries of /proc.
func PIDs() []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var pids []int
	for _, e := range entries {
		if pid, err := strconv.Atoi(e.Name()); err == nil {
			pids = append(pids, pid)
		}
	}
	return pids
}

// Children lists the live children of pid.
func Children(pid int) []int {
	var kids []int
	for _, p := range PIDs() {
		st, err := ReadStat(p)
		if err == nil && st.PPID == pid && st.State != 'Z' {
			kids = append(kids, p)
		}
	}
	return kids
}

// Signal sends sig to pid, ignoring "no such process".
func Signal(pid int, sig syscall.Signal) error {
	if err := syscall.Kill(pid, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
		return err
	}
	return nil
}

// SelfExe is the running executable's file.
func SelfExe() (os.FileInfo, error) {
	p, err := os.Executable()
	if err != nil {
		return nil, err
	}
	return os.Stat(p)
}

// IsExe reports whether pid runs the executable exe.
func IsExe(pid int, exe os.FileInfo) bool {
	if exe == nil {
		return false
	}
	st, err := os.Stat("/proc/" + strconv.Itoa(pid) + "/exe")
	return err == nil && os.SameFile(st, exe)
}

// HasChild reports whether pid has a child process, from the kernel's list
// of its main thread's children (a haproxy master forks from its main
// thread), else by scanning /proc.
func HasChild(pid int) bool {
	p := strconv.Itoa(pid)
	if b, err := os.ReadFile("/proc/" + p + "/task/" + p + "/children"); err == nil {
		return len(strings.TrimSpace(string(b))) > 0
	}
	return len(Children(pid)) > 0
}
