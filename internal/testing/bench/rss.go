package bench

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unsafe"
)

// SpawnerEnv, set to "1", makes a program that calls [MaybeRunSpawner] first
// thing act as the RSS spawner instead of itself.
const SpawnerEnv = "SERVE_LAUNCH_BENCH_RSS_SPAWNER"

// MaybeRunSpawner is the RSS spawner: when SpawnerEnv is set it runs
// os.Args[1:] as a child created by a plain fork, waits for it, prints
// "maxrss KiB exit CODE" to stdout and exits; otherwise it returns.
//
// Why a spawner: Go starts children with clone(CLONE_VM|CLONE_VFORK), so
// until its exec the child shares the parent's memory, and the kernel folds
// that memory's high-water mark into the child's maxrss at exec. Any child
// of a big Go program would then report the parent's peak. A plain fork gives
// the child a copy of this small, just-started process instead, whose
// floor shows in the baseline measured the same way.
func MaybeRunSpawner() {
	if os.Getenv(SpawnerEnv) != "1" {
		return
	}
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "spawner: no command")
		os.Exit(2)
	}
	argv0, err := syscall.BytePtrFromString(os.Args[1])
	if err != nil {
		os.Exit(2)
	}
	argv, err := syscall.SlicePtrFromStrings(os.Args[1:])
	if err != nil {
		os.Exit(2)
	}
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, SpawnerEnv+"=") {
			env = append(env, kv)
		}
	}
	envv, err := syscall.SlicePtrFromStrings(env)
	if err != nil {
		os.Exit(2)
	}
	syscall.ForkLock.Lock()
	pid := forkExec(argv0, &argv[0], &envv[0])
	syscall.ForkLock.Unlock()
	if pid < 0 {
		fmt.Fprintln(os.Stderr, "spawner: fork failed")
		os.Exit(2)
	}
	var ws syscall.WaitStatus
	var ru syscall.Rusage
	for {
		_, err := syscall.Wait4(pid, &ws, 0, &ru)
		if err != syscall.EINTR {
			break
		}
	}
	fmt.Printf("maxrss %d exit %d\n", ru.Maxrss, ws.ExitStatus())
	os.Exit(0)
}

// forkExec forks without sharing memory and execs in the child, using only
// raw system calls there (as Go's own fork did before it moved to vfork).
//
//go:nosplit
func forkExec(argv0 *byte, argv, envv **byte) int {
	pid, _, errno := syscall.RawSyscall6(syscall.SYS_CLONE, uintptr(syscall.SIGCHLD), 0, 0, 0, 0, 0)
	if errno != 0 {
		return -1
	}
	if pid == 0 {
		syscall.RawSyscall(syscall.SYS_EXECVE, uintptr(unsafe.Pointer(argv0)), uintptr(unsafe.Pointer(argv)), uintptr(unsafe.Pointer(envv)))
		syscall.RawSyscall(syscall.SYS_EXIT_GROUP, 127, 0, 0)
	}
	return int(pid)
}

// ParseSpawner reads the spawner's output line.
func ParseSpawner(out string) (maxrssKiB, exit int, err error) {
	f := strings.Fields(strings.TrimSpace(out))
	if len(f) != 4 || f[0] != "maxrss" || f[2] != "exit" {
		return 0, 0, fmt.Errorf("spawner said %q", out)
	}
	if maxrssKiB, err = strconv.Atoi(f[1]); err != nil {
		return 0, 0, err
	}
	exit, err = strconv.Atoi(f[3])
	return maxrssKiB, exit, err
}

// RSSResult is the shim's peak RSS at one config size.
type RSSResult struct {
	Servers int
	// ShimKiB holds every run's peak; TrueKiB is the worst of `true` alone,
	// the spawner's floor.
	ShimKiB []float64
	TrueKiB int
}

// ShimPeakRSS runs the shim on a config of servers servers, runs times,
// with the real haproxy replaced by `true`, and returns each run's peak
// RSS in KiB and the worst of `true` alone, both started by the RSS
// spawner.
//
// Why this measures the shim: Linux keeps a process's peak RSS across exec
// (exec_mmap folds the old image's high-water mark into signal->maxrss), and
// wait4 reports the maximum over every image the process ran. With `true`
// as the exec target (a tiny image, measured on its own as the baseline)
// the maximum is the shim's own peak, taken right up to the exec, or the
// spawner's floor if that were higher.
func (t *Tools) ShimPeakRSS(ctx context.Context, servers, runs int) (RSSResult, error) {
	res := RSSResult{Servers: servers}
	truePath, err := exec.LookPath("true")
	if err != nil {
		return res, err
	}
	dir := filepath.Join(t.Work, fmt.Sprintf("rss-%d", servers))
	cfg, err := WriteConfig(servers, ConfigOptions{Dir: dir})
	if err != nil {
		return res, err
	}
	env := append(t.ShimEnv(filepath.Join(dir, "state"), truePath), SpawnerEnv+"=1")
	// The first run checks the snippets' lines with `haproxy -c` (here
	// `true -c`); the runs measured are the steady state after it.
	for i := -1; i < runs; i++ {
		for _, argv := range [][]string{{t.Shim, "-db", "-f", cfg, "-dR"}, {truePath}} {
			cmd := exec.CommandContext(ctx, t.Self, argv...)
			cmd.Env, cmd.WaitDelay = env, time.Second
			out, err := cmd.Output()
			if err != nil {
				return res, fmt.Errorf("spawner %s: %v: %s", strings.Join(argv, " "), err, out)
			}
			rss, code, err := ParseSpawner(string(out))
			if err != nil {
				return res, err
			}
			if code != 0 {
				return res, fmt.Errorf("%s exited %d (see %s)", strings.Join(argv, " "), code, dir)
			}
			switch {
			case i < 0:
			case argv[0] == truePath:
				res.TrueKiB = max(res.TrueKiB, rss)
			default:
				res.ShimKiB = append(res.ShimKiB, float64(rss))
			}
		}
	}
	return res, nil
}
