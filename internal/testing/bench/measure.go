package bench

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/serve-launch/serve-launch/internal/proc/shim"
	"github.com/serve-launch/serve-launch/internal/raycfg"
)

// Tools are the programs and directories every measurement uses.
type Tools struct {
	// ServeLaunch is the serve-launch binary; Shim is a symlink named
	// haproxy to serve-launch-shim beside it (see [Tools.MakeShim]).
	ServeLaunch, Shim string
	// RaySim is the raysim binary, the stand-in for `serve run`.
	RaySim string
	// HAProxy is the real haproxy.
	HAProxy string
	// Overrides is the repository's overrides.d.
	Overrides string
	// Work is a scratch directory, removed by the caller.
	Work string
	// Self is the running program, which acts as the RSS spawner when run
	// with [SpawnerEnv] set (see [MaybeRunSpawner]).
	Self string
	// ExecFloor is a Go program that only execs its arguments
	// (cmd/execfloor): the start overhead's floor for any Go stand-in.
	ExecFloor string
	// Stamp is the stamp (see [BuildStamp]); "" when it could not be
	// built, and the start section cannot run.
	Stamp string
}

// Rounds are the values of a comparison's sides, one per round each, in
// round order: Rounds[side][i] is side's value in round i.
type Rounds map[string][]float64

// MakeShim creates Work/bin/haproxy -> serve-launch-shim (beside
// ServeLaunch), the way the launcher's ShimDir does for Ray.
func (t *Tools) MakeShim() error {
	dir := filepath.Join(t.Work, "bin")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	t.Shim = filepath.Join(dir, "haproxy")
	return os.Symlink(filepath.Join(filepath.Dir(t.ServeLaunch), "serve-launch-shim"), t.Shim)
}

// ShimEnv is the environment Ray's haproxy runs with under `serve-launch
// run`, built by the launcher's own [shim.ChildEnv]: the shim first on PATH
// and as Ray's binary, and the SERVE_LAUNCH_* settings it reads. real is
// the program the shim execs.
func (t *Tools) ShimEnv(stateDir, real string) []string {
	return shim.ChildEnv(os.Environ(), filepath.Dir(t.Shim), t.Shim, shim.ShimEnv{
		StateDir:     stateDir,
		OverridesDir: t.Overrides,
		RealHAProxy:  real,
		OnPatchError: shim.OnPatchErrorQuarantine,
	})
}

// timeRun runs argv to completion, or until ctx ends (then it is killed),
// and returns its wall time.
func timeRun(ctx context.Context, argv, env []string, stdout *os.File) (time.Duration, error) {
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env, cmd.Stdout, cmd.WaitDelay = env, stdout, time.Second
	var stderr strings.Builder
	cmd.Stderr = &stderr
	start := time.Now()
	err := cmd.Run()
	d := time.Since(start)
	if err != nil {
		return 0, fmt.Errorf("%s: %v: %s", strings.Join(argv, " "), err, strings.TrimSpace(stderr.String()))
	}
	return d, nil
}

// instance is one haproxy placement: a generated config, its ports and the
// patched copy the direct runs use.
type instance struct {
	dir, cfg, patched, socket string
	httpPort                  int
	ports                     [3]int
}

// waitPortsFree waits, bounded, until nothing listens on the instance's
// ports, so that a run never fails on what the previous one left behind.
func (in *instance) waitPortsFree() error {
	deadline := time.Now().Add(5 * time.Second)
	for {
		busy := 0
		for _, p := range in.ports {
			l, err := net.Listen("tcp", fmt.Sprintf(":%d", p))
			if err != nil {
				busy = p
				break
			}
			l.Close()
		}
		if busy == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("port %d still in use 5s after the previous haproxy was killed", busy)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (t *Tools) newInstance(name string, servers int, backends []raycfg.Target) (*instance, error) {
	in := &instance{dir: filepath.Join(t.Work, name)}
	var ports [3]int
	for i := range ports {
		p, err := FreePort()
		if err != nil {
			return nil, err
		}
		ports[i] = p
	}
	in.httpPort, in.ports = ports[0], ports
	o := ConfigOptions{Dir: in.dir, HTTPPort: ports[0], StatsPort: ports[1], MetricsPort: ports[2], Backends: backends,
		MaxConn: MaxConnFor(servers, fileLimit())}
	cfg, err := WriteConfig(servers, o)
	if err != nil {
		return nil, err
	}
	in.cfg = cfg
	in.socket = Env(o)["RAY_SERVE_HAPROXY_SOCKET_PATH"]
	return in, nil
}

// fileLimit is the open files limit haproxy inherits from this process.
func fileLimit() uint64 {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return 1 << 20
	}
	return l.Cur
}

// spawn starts argv with its output appended to the instance's haproxy.log,
// once the instance's ports are free; extra become its fds 3 and on.
func (in *instance) spawn(argv, env []string, extra ...*os.File) (*Group, error) {
	if err := in.waitPortsFree(); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(in.dir, "haproxy.log"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	defer f.Close() // the child has its own copy
	return Spawn(argv, env, f, extra...)
}

// logTail is the end of the instance's haproxy.log, for error messages.
func (in *instance) logTail() string {
	data, _ := os.ReadFile(filepath.Join(in.dir, "haproxy.log"))
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) > 4 {
		lines = lines[len(lines)-4:]
	}
	return "haproxy said: " + strings.Join(lines, " | ")
}
