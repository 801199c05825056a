package hardening

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/serve-launch/serve-launch/internal/testing/testenv"
)

func TestMain(m *testing.M) {
	os.Exit(testenv.MainWithBinaries(m, "hardening", &bins))
}

// bins are the serve-launch and raysim binaries TestMain builds: the tests
// run the real commands, as an operator would.
var bins testenv.Binaries

// result is one finished command.
type result struct {
	code           int
	stdout, stderr string
	took           time.Duration
	// maxRSS is the command's peak resident memory, in bytes.
	maxRSS int64
}

// serveLaunch runs the CLI with args in dir, bounded by timeout, with env
// added to this process's environment.
func serveLaunch(t *testing.T, dir string, timeout time.Duration, env []string, args ...string) result {
	t.Helper()
	return runBin(t, bins.Launcher(), dir, timeout, env, args...)
}

func runBin(t *testing.T, bin, dir string, timeout time.Duration, env []string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	// The tests' haproxy first on PATH: the shim and a check without
	// --haproxy look for plain haproxy there.
	cmd.Env = append(append(os.Environ(), testenv.HAProxyPATH(t)), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errb.String(), took: time.Since(start)}
	if cmd.ProcessState != nil {
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			r.maxRSS = ru.Maxrss << 10 // Linux counts it in KiB
		}
	}
	if ctx.Err() != nil {
		t.Fatalf("%s %q did not finish within %s", filepath.Base(bin), args, timeout)
	}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("running %s: %v", bin, err)
	}
	return r
}
