package hardening

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// binDir holds the serve-launch and raysim binaries built by TestMain.
var binDir string

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	flag.Parse()
	if f := flag.Lookup("test.list"); f != nil && f.Value.String() != "" {
		return m.Run() // listing tests (make fuzz does) needs no binaries
	}
	dir, err := os.MkdirTemp("", "serve-launch-hardening-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "hardening:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	cmd := exec.Command("go", "build", "-o", dir+string(os.PathSeparator),
		"github.com/serve-launch/serve-launch/cmd/serve-launch",
		"github.com/serve-launch/serve-launch/internal/raysim/cmd/raysim")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		fmt.Fprintf(os.Stderr, "hardening: building serve-launch and raysim: %v\n", err)
		return 1
	}
	binDir = dir
	return m.Run()
}

func launcherBin() string { return filepath.Join(binDir, "serve-launch") }
func raysimBin() string   { return filepath.Join(binDir, "raysim") }

// result is one finished command.
type result struct {
	code           int
	stdout, stderr string
	took           time.Duration
}

// serveLaunch runs the CLI with args in dir, bounded by timeout, with env
// added to this process's environment.
func serveLaunch(t *testing.T, dir string, timeout time.Duration, env []string, args ...string) result {
	t.Helper()
	return runBin(t, launcherBin(), dir, timeout, env, args...)
}

func runBin(t *testing.T, bin, dir string, timeout time.Duration, env []string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errb.String(), took: time.Since(start)}
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
