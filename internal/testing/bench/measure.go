package bench

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/serve-launch/serve-launch/internal/proc/shim"
	"github.com/serve-launch/serve-launch/internal/proc/state"
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
}

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

// Sample is one side of a side-by-side comparison: the serve-launch way and
// the plain haproxy way, measured alternately in one run.
type Sample struct {
	Ours, Base []float64
}

// Ratio is median(Ours) / median(Base).
func (s Sample) Ratio() float64 {
	b := Median(s.Base)
	if b == 0 {
		return 0
	}
	return Median(s.Ours) / b
}

// MinRatio is min(Ours) / min(Base): the runs least disturbed by other load
// on the machine.
func (s Sample) MinRatio() float64 {
	if len(s.Ours) == 0 || len(s.Base) == 0 {
		return 0
	}
	b := slices.Min(s.Base)
	if b == 0 {
		return 0
	}
	return slices.Min(s.Ours) / b
}

// PairRatio is the median over runs of Ours[i] / Base[i]: each run paired
// with its neighbour on the other side, which cancels slow drifts in the
// machine's load.
func (s Sample) PairRatio() float64 {
	var r []float64
	for i := range min(len(s.Ours), len(s.Base)) {
		if s.Base[i] != 0 {
			r = append(r, s.Ours[i]/s.Base[i])
		}
	}
	return Median(r)
}

// add appends v to the serve-launch side (ours) or to the plain one.
func (s *Sample) add(ours bool, v float64) {
	if ours {
		s.Ours = append(s.Ours, v)
	} else {
		s.Base = append(s.Base, v)
	}
}

// sides is the order the two sides run in round i, ours (true) first in
// even rounds: alternating, so a drift in the machine's load does not
// always favour the same side.
func sides(i int) [2]bool { return [2]bool{i%2 == 0, i%2 != 0} }

// timeRun runs argv to completion and returns its wall time.
func timeRun(argv, env []string, stdout *os.File) (time.Duration, error) {
	cmd := &exec.Cmd{Path: argv[0], Args: argv, Env: env, Stdout: stdout}
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

// RenderVsCheck times `serve-launch render` (the whole process: start,
// load overrides.d, patch, print) against `haproxy -c` on the same generated
// file, alternating, runs times each. The result is in milliseconds.
func (t *Tools) RenderVsCheck(servers, runs int) (Sample, error) {
	dir := filepath.Join(t.Work, fmt.Sprintf("render-%d", servers))
	cfg, err := WriteConfig(servers, ConfigOptions{Dir: dir})
	if err != nil {
		return Sample{}, err
	}
	devnull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		return Sample{}, err
	}
	defer devnull.Close()
	render := []string{t.ServeLaunch, "render", "--config", cfg, "--overrides", t.Overrides}
	check := []string{t.HAProxy, "-c", "-q", "-f", cfg}
	var s Sample
	// One untimed run of each fills the page cache for both.
	for i := -1; i < runs; i++ {
		a, err := timeRun(render, nil, devnull)
		if err != nil {
			return s, err
		}
		b, err := timeRun(check, nil, devnull)
		if err != nil {
			return s, err
		}
		if i >= 0 {
			s.Ours = append(s.Ours, Millis(a))
			s.Base = append(s.Base, Millis(b))
		}
	}
	return s, nil
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
	o := ConfigOptions{Dir: in.dir, HTTPPort: ports[0], StatsPort: ports[1], MetricsPort: ports[2], Backends: backends}
	cfg, err := WriteConfig(servers, o)
	if err != nil {
		return nil, err
	}
	in.cfg = cfg
	in.socket = Env(o)["RAY_SERVE_HAPROXY_SOCKET_PATH"]
	return in, nil
}

// startShim starts haproxy the way Ray does under the launcher: the shim
// symlink with Ray's argv. It returns the group and the time until `show
// info` answered.
func (t *Tools) startShim(ctx context.Context, in *instance, state string) (*Group, time.Duration, error) {
	g, err := in.spawn([]string{t.Shim, "-db", "-f", in.cfg, "-dR"}, t.ShimEnv(state, t.HAProxy))
	if err != nil {
		return nil, 0, err
	}
	d, err := WaitShowInfo(ctx, in.socket, g.Start, g.Exited)
	if err != nil {
		_ = g.Kill()
		return nil, 0, fmt.Errorf("haproxy through the shim: %v; %s (see %s)", err, in.logTail(), state)
	}
	return g, d, nil
}

// spawn starts argv with its output appended to the instance's haproxy.log,
// once the instance's ports are free.
func (in *instance) spawn(argv, env []string) (*Group, error) {
	if err := in.waitPortsFree(); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(in.dir, "haproxy.log"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	defer f.Close() // the child has its own copy
	return Spawn(argv, env, f)
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

// startDirect starts the real haproxy on the patched file with the argv the
// shim would exec (-W added), so both sides run the same program on the same
// file; through ExecFloor when floor is set.
func (t *Tools) startDirect(ctx context.Context, in *instance, floor bool) (*Group, time.Duration, error) {
	argv, how := []string{t.HAProxy, "-W", "-db", "-f", in.patched, "-dR"}, "directly"
	if floor {
		argv, how = append([]string{t.ExecFloor}, argv...), "through execfloor"
	}
	g, err := in.spawn(argv, nil)
	if err != nil {
		return nil, 0, err
	}
	d, err := WaitShowInfo(ctx, in.socket, g.Start, g.Exited)
	if err != nil {
		_ = g.Kill()
		return nil, 0, fmt.Errorf("haproxy started %s: %v; %s", how, err, in.logTail())
	}
	return g, d, nil
}

// The sides of a start comparison.
const (
	sideShim = iota
	sideDirect
	sideFloor
)

// startSide starts haproxy through the shim, directly or through ExecFloor.
func (t *Tools) startSide(ctx context.Context, in *instance, state string, side int) (*Group, time.Duration, error) {
	switch side {
	case sideShim:
		return t.startShim(ctx, in, state)
	case sideFloor:
		return t.startDirect(ctx, in, true)
	}
	return t.startDirect(ctx, in, false)
}

// preparePatched runs the shim once (untimed) and copies the patched file it
// wrote, so the direct runs use exactly what the shim runs.
func (t *Tools) preparePatched(ctx context.Context, in *instance, stateDir string) error {
	g, _, err := t.startShim(ctx, in, stateDir)
	if err != nil {
		return err
	}
	if err := g.Kill(); err != nil {
		return err
	}
	data, err := os.ReadFile(filepath.Join(stateDir, state.InstanceID([]string{in.cfg}), state.PatchedFile))
	if err != nil {
		return err
	}
	in.patched = filepath.Join(in.dir, "patched-direct.cfg")
	return os.WriteFile(in.patched, data, 0o644)
}

// StartTimes is what [Tools.StartOverhead] measured at one config size, in
// milliseconds.
type StartTimes struct {
	// Shim is haproxy started through the shim against directly; Floor is
	// through ExecFloor against the same direct runs.
	Shim, Floor Sample
	// Own is the shim exec'ing `true` against `true` alone, timed in the
	// same rounds right after a haproxy was killed: the shim's own part of
	// a start, with the caches as cold as they are for the timed starts.
	// FloorOwn is ExecFloor exec'ing `true` against the same `true` runs.
	Own, FloorOwn Sample
}

// StartOverhead times spawn to `show info` answering for haproxy started
// through the shim, directly on the same patched file, and through
// ExecFloor, runs times each in rotating order, and in the same rounds the
// shim's own time (see [StartTimes.Own]).
func (t *Tools) StartOverhead(ctx context.Context, servers, runs int) (StartTimes, error) {
	var st StartTimes
	in, err := t.newInstance(fmt.Sprintf("start-%d", servers), servers, nil)
	if err != nil {
		return st, err
	}
	state := filepath.Join(in.dir, "state")
	if err := t.preparePatched(ctx, in, state); err != nil {
		return st, err
	}
	truePath, err := exec.LookPath("true")
	if err != nil {
		return st, err
	}
	// The own-time runs keep a state dir of their own: their records name
	// a `true` that has exited, and the timed shim starts must not see them.
	ownArgv := []string{t.Shim, "-db", "-f", in.cfg, "-dR"}
	ownEnv := t.ShimEnv(filepath.Join(in.dir, "state-own"), truePath)
	devnull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		return st, err
	}
	defer devnull.Close()
	g, _, err := t.startDirect(ctx, in, false) // warm-up of the direct side
	if err != nil {
		return st, err
	}
	if err := g.Kill(); err != nil {
		return st, err
	}
	for i := 0; i < runs; i++ {
		// Each side goes first, second and third in turn, so a drift in
		// the machine's load does not always favour the same one.
		for k := range 3 {
			side := (i + k) % 3
			g, d, err := t.startSide(ctx, in, state, side)
			if err != nil {
				return st, err
			}
			if err := g.Kill(); err != nil {
				return st, err
			}
			addSide(&st.Shim, &st.Floor, side, d)
		}
		for k := range 3 {
			side := (i + k) % 3
			argv, env := []string{truePath}, []string(nil)
			switch side {
			case sideShim:
				argv, env = ownArgv, ownEnv
			case sideFloor:
				argv = []string{t.ExecFloor, truePath}
			}
			d, err := timeRun(argv, env, devnull)
			if err != nil {
				return st, err
			}
			addSide(&st.Own, &st.FloorOwn, side, d)
		}
	}
	st.Floor.Base = st.Shim.Base
	st.FloorOwn.Base = st.Own.Base
	return st, nil
}

// addSide files a run of side: the shim's as shim's own, the floor's as
// floor's own, and the plain one as shim's base (the floor's base is set to
// the same runs at the end).
func addSide(shim, floor *Sample, side int, d time.Duration) {
	switch side {
	case sideShim:
		shim.Ours = append(shim.Ours, Millis(d))
	case sideFloor:
		floor.Ours = append(floor.Ours, Millis(d))
	default:
		shim.Base = append(shim.Base, Millis(d))
	}
}

// ShimPeakRSS runs the shim on a config of servers servers with the real
// haproxy replaced by `true`, and returns the process's peak RSS in KiB and
// that of `true` alone, both started by the RSS spawner.
//
// Why this measures the shim: Linux keeps a process's peak RSS across exec
// (exec_mmap folds the old image's high-water mark into signal->maxrss), and
// wait4 reports the maximum over every image the process ran. With `true`
// as the exec target (a tiny image, measured on its own as the baseline)
// the maximum is the shim's own peak, taken right up to the exec, or the
// spawner's floor if that were higher.
//
// The same runs give the shim's own time: wall time to exit with `true` as
// the exec target, minus that of `true` alone (medians, in ms).
func (t *Tools) ShimPeakRSS(servers, runs int) (shimKiB, trueKiB int, shimMs float64, err error) {
	truePath, err := exec.LookPath("true")
	if err != nil {
		return 0, 0, 0, err
	}
	dir := filepath.Join(t.Work, fmt.Sprintf("rss-%d", servers))
	cfg, err := WriteConfig(servers, ConfigOptions{Dir: dir})
	if err != nil {
		return 0, 0, 0, err
	}
	env := append(t.ShimEnv(filepath.Join(dir, "state"), truePath), SpawnerEnv+"=1")
	var times Sample
	for i := 0; i < runs; i++ {
		for _, argv := range [][]string{{t.Shim, "-db", "-f", cfg, "-dR"}, {truePath}} {
			cmd := &exec.Cmd{Path: t.Self, Args: append([]string{t.Self}, argv...), Env: env}
			start := time.Now()
			out, err := cmd.Output()
			ms := Millis(time.Since(start))
			if err != nil {
				return 0, 0, 0, fmt.Errorf("spawner %s: %v: %s", strings.Join(argv, " "), err, out)
			}
			rss, code, err := ParseSpawner(string(out))
			if err != nil {
				return 0, 0, 0, err
			}
			if code != 0 {
				return 0, 0, 0, fmt.Errorf("%s exited %d (see %s)", strings.Join(argv, " "), code, dir)
			}
			if argv[0] == truePath {
				trueKiB = max(trueKiB, rss)
			} else {
				shimKiB = max(shimKiB, rss)
			}
			times.add(argv[0] != truePath, ms)
		}
	}
	return shimKiB, trueKiB, Median(times.Ours) - Median(times.Base), nil
}
