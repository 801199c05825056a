package bench

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// The stamp is the tiny static program the start measurement puts in the
// place of the real haproxy: it writes the time it starts to fd 3 and execs
// the real haproxy with its own argv. Spawned directly, the time from the
// spawn to its stamp is what any start costs before haproxy runs (fork,
// exec); spawned as the shim's real haproxy, that time also holds the
// shim's own work up to its exec. The difference of the two, paired in one
// round, is the shim's own cost per start, measured without the noise of
// haproxy's start itself.
//
// It is C, without stdio, so that its own start is a few hundred
// microseconds that both sides pay alike; make bench builds it with cc.

// StampExecEnv names the program the stamp execs.
const StampExecEnv = "SERVE_LAUNCH_BENCH_STAMP_EXEC"

// stampSource is the stamp. It writes CLOCK_MONOTONIC and the process's
// CPU time so far (CLOCK_PROCESS_CPUTIME_ID: every thread's, the exited
// ones' too, and exec does not reset it, so through the shim it holds the
// shim's), in nanoseconds, 8 bytes each in the machine's order, to fd 3
// and closes it, so haproxy inherits
// nothing. It execs haproxy with haproxy's own path as argv[0], as the shim
// does: haproxy's master re-execs itself through argv[0] once its worker
// runs, and a stamp run then would write into whatever fd 3 is by then
// (the master's socket to its worker, which the worker then reads as
// garbage and exits). a stamp without fd 3 (a `haproxy -c` the shim runs, say, or a
// run that does not time) writes nothing and only execs. The reader takes
// the last stamp: the shim's own `haproxy -c`, which inherits the shim's
// fd 3, stamps before the exec that starts haproxy.
const stampSource = `#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
	struct timespec mono, cpu;
	clock_gettime(CLOCK_MONOTONIC, &mono);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu);
	uint64_t ns[2] = {
		(uint64_t)mono.tv_sec * 1000000000u + (uint64_t)mono.tv_nsec,
		(uint64_t)cpu.tv_sec * 1000000000u + (uint64_t)cpu.tv_nsec,
	};
	if (write(3, ns, sizeof ns) == (ssize_t)sizeof ns)
		close(3);
	const char *target = getenv("` + StampExecEnv + `");
	if (target == NULL || argc < 1)
		return 127;
	argv[0] = (char *)target;
	execv(target, argv);
	return 126;
}
`

// BuildStamp compiles the stamp into dir with cc (static, so that it
// loads no libraries) and returns its path.
func BuildStamp(cc, dir string) (string, error) {
	src := filepath.Join(dir, "stamp.c")
	if err := os.WriteFile(src, []byte(stampSource), 0o644); err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "stamp")
	out, err := exec.Command(cc, "-O2", "-static", "-o", bin, src).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("%s -static stamp.c: %v: %s", cc, err, strings.TrimSpace(string(out)))
	}
	return bin, nil
}

// Monotonic is CLOCK_MONOTONIC in nanoseconds, the clock the stamp reads.
func Monotonic() int64 {
	var ts unix.Timespec
	_ = unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	return ts.Nano()
}

// Stamp is what the stamp wrote: CLOCK_MONOTONIC and the process's CPU
// time, in ns.
type Stamp struct{ Mono, CPU int64 }

// readStamps reads stamps from r until every writer closed it and returns
// the last one.
func readStamps(r io.Reader) (Stamp, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return Stamp{}, err
	}
	if len(data) == 0 {
		return Stamp{}, errors.New("no stamp: the stamp never ran")
	}
	if len(data)%16 != 0 {
		return Stamp{}, fmt.Errorf("the stamp wrote %d bytes, want a multiple of 16", len(data))
	}
	last := data[len(data)-16:]
	return Stamp{int64(binary.NativeEndian.Uint64(last)), int64(binary.NativeEndian.Uint64(last[8:]))}, nil
}
