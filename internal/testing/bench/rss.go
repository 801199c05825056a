package bench

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
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
