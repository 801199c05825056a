package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/serve-launch/serve-launch/internal/launch/build"
	"github.com/serve-launch/serve-launch/internal/proc/state"
)

// The sides of the start measurement.
const (
	// SideShim is a start through the shim, with the verdict file knowing
	// the snippets' lines (the steady state: Ray's reloads move servers,
	// the lines the snippets write stay).
	SideShim = "shim"
	// SideDirect is the stamp spawned directly; SideDirectAA is the same
	// again, the A/A side.
	SideDirect   = "direct"
	SideDirectAA = "direct again"
	// SideFloor is execfloor, a Go program that only execs, in the shim's
	// place: the least any Go stand-in costs.
	SideFloor = "execfloor"
	// SideShimCheck is a start through the shim with the verdict file
	// removed, so the shim runs `haproxy -c` on the new lines.
	SideShimCheck = "shim, new lines"
)

// StartResult is the start measurement at one config size. Spawn holds,
// per side, the milliseconds from the spawn to the stamp (the start's cost
// before haproxy runs), CPU the milliseconds of CPU the process used up to
// the stamp (which the machine's other load moves far less); Ready holds, for the direct side, the milliseconds
// from the stamp to the first `show info` answer: haproxy's own start to
// ready. Check holds the rounds of SideShimCheck against SideDirect,
// measured after the main rounds.
type StartResult struct {
	Servers           int
	Spawn, CPU, Check Rounds
	Ready             []float64
}

// Own is the shim's own cost per round, in ms: the shim side's spawn to
// stamp less the direct side's of the same round; AA is the same of the
// A/A side.
func (r StartResult) Own() (own, aa []float64) {
	return Diffs(r.Spawn[SideShim], r.Spawn[SideDirect]), Diffs(r.Spawn[SideDirectAA], r.Spawn[SideDirect])
}

// OwnCPU is the shim's own CPU time per round, in ms, as Own is of the
// wall time, and the A/A side's.
func (r StartResult) OwnCPU() (own, aa []float64) {
	return Diffs(r.CPU[SideShim], r.CPU[SideDirect]), Diffs(r.CPU[SideDirectAA], r.CPU[SideDirect])
}

// FloorOwn is execfloor's own cost per round, in ms, as Own is the
// shim's: what a Go program that only execs costs a start, the least any
// Go shim can. Nil when the rounds had no SideFloor.
func (r StartResult) FloorOwn() (own, aa []float64) {
	if len(r.Spawn[SideFloor]) == 0 {
		return nil, nil
	}
	return Diffs(r.Spawn[SideFloor], r.Spawn[SideDirect]), Diffs(r.Spawn[SideDirectAA], r.Spawn[SideDirect])
}

// FloorShare is FloorOwn over haproxy's own start to ready of the same
// round.
func (r StartResult) FloorShare() (own, aa []float64) {
	o, a := r.FloorOwn()
	if o == nil {
		return nil, nil
	}
	return Ratios(o, r.Ready), Ratios(a, r.Ready)
}

// BeyondFloor is the shim's cost beyond execfloor's per round, in ms: the
// shim's spawn to stamp less execfloor's. Its A/A side is Own's. Nil
// when the rounds had no SideFloor.
func (r StartResult) BeyondFloor() (own, aa []float64) {
	if len(r.Spawn[SideFloor]) == 0 {
		return nil, nil
	}
	return Diffs(r.Spawn[SideShim], r.Spawn[SideFloor]), Diffs(r.Spawn[SideDirectAA], r.Spawn[SideDirect])
}

// OwnShare is Own over haproxy's own start to ready of the same round.
func (r StartResult) OwnShare() (own, aa []float64) {
	o, a := r.Own()
	return Ratios(o, r.Ready), Ratios(a, r.Ready)
}

// StartOptions sets what [Tools.StartOwnCost] runs.
type StartOptions struct {
	Rounds int
	// Floor adds SideFloor to the rounds.
	Floor bool
	// CheckRounds is how many rounds of SideShimCheck against SideDirect
	// follow.
	CheckRounds int
}

// StartOwnCost measures the shim's own cost per haproxy start at one
// config size: rounds of the shim, the stamp spawned directly, and the
// stamp spawned directly again (the A/A side), in rotating order, each a
// whole haproxy start to its first `show info` answer, killed before the
// next, so every run finds the caches as a real start after another
// haproxy does.
func (t *Tools) StartOwnCost(ctx context.Context, servers int, o StartOptions) (StartResult, error) {
	res := StartResult{Servers: servers, Spawn: Rounds{}, CPU: Rounds{}, Check: Rounds{}}
	if t.Stamp == "" {
		return res, fmt.Errorf("no stamp program (a C compiler, cc, builds it)")
	}
	in, err := t.newInstance(fmt.Sprintf("start-%d", servers), servers, nil)
	if err != nil {
		return res, err
	}
	stateDir := filepath.Join(in.dir, "state")
	env := append(t.ShimEnv(stateDir, t.Stamp), StampExecEnv+"="+t.HAProxy)
	// The first start runs `haproxy -c` and records its verdict; the
	// direct sides run a copy of the file it wrote.
	if err := t.preparePatched(ctx, in, stateDir, env); err != nil {
		return res, err
	}
	direct := []string{t.Stamp, "-W", "-db", "-f", in.patched, "-dR"}
	argv := map[string][]string{
		SideShim:      {t.Shim, "-db", "-f", in.cfg, "-dR"},
		SideShimCheck: {t.Shim, "-db", "-f", in.cfg, "-dR"},
		SideDirect:    direct,
		SideDirectAA:  direct,
		SideFloor:     append([]string{t.ExecFloor}, direct...),
	}
	run := func(side string) (spawn, cpu, ready float64, err error) {
		if side == SideShimCheck {
			if err := os.Remove(filepath.Join(stateDir, build.VerdictsFile)); err != nil && !os.IsNotExist(err) {
				return 0, 0, 0, err
			}
		}
		return in.stampedStart(ctx, argv[side], env)
	}
	// One untimed start of each program fills the page cache for both.
	for _, side := range []string{SideShim, SideDirect} {
		if _, _, _, err := run(side); err != nil {
			return res, err
		}
	}
	sides := []string{SideShim, SideDirect, SideDirectAA}
	if o.Floor {
		sides = append(sides, SideFloor)
	}
	for i := range o.Rounds {
		for _, k := range Order(i, len(sides)) {
			side := sides[k]
			spawn, cpu, ready, err := run(side)
			if err != nil {
				return res, fmt.Errorf("%s: %v", side, err)
			}
			res.Spawn[side] = append(res.Spawn[side], spawn)
			res.CPU[side] = append(res.CPU[side], cpu)
			if side == SideDirect {
				res.Ready = append(res.Ready, ready)
			}
		}
	}
	for i := range o.CheckRounds {
		for _, k := range Order(i, 2) {
			side := []string{SideShimCheck, SideDirect}[k]
			spawn, _, _, err := run(side)
			if err != nil {
				return res, fmt.Errorf("%s: %v", side, err)
			}
			res.Check[side] = append(res.Check[side], spawn)
		}
	}
	return res, nil
}

// stampedStart spawns argv with a pipe as fd 3 for the stamp, waits for
// `show info` to answer, kills the group, and returns the milliseconds
// from the spawn to the stamp, of CPU up to the stamp, and from the stamp
// to the answer.
func (in *instance) stampedStart(ctx context.Context, argv, env []string) (spawn, cpu, ready float64, err error) {
	r, w, err := os.Pipe()
	if err != nil {
		return 0, 0, 0, err
	}
	defer r.Close()
	g, err := in.spawn(argv, env, w)
	w.Close() // the child has its copy; the reader's EOF is the stamp's close
	if err != nil {
		return 0, 0, 0, err
	}
	type stamp struct {
		Stamp
		err error
	}
	stamped := make(chan stamp, 1)
	go func() {
		s, err := readStamps(r)
		stamped <- stamp{s, err}
	}()
	_, werr := WaitShowInfo(ctx, in.socket, g.Start, g.Exited)
	answered := Monotonic()
	if kerr := g.Kill(); kerr != nil && werr == nil {
		werr = kerr
	}
	if werr != nil {
		return 0, 0, 0, fmt.Errorf("%v; %s", werr, in.logTail())
	}
	s := <-stamped
	if s.err != nil {
		return 0, 0, 0, s.err
	}
	return float64(s.Mono-g.StartNS) / 1e6, float64(s.CPU) / 1e6, float64(answered-s.Mono) / 1e6, nil
}

// preparePatched runs the shim once (untimed, with env) and copies the
// patched file it wrote, so the direct runs use exactly what the shim runs.
func (t *Tools) preparePatched(ctx context.Context, in *instance, stateDir string, env []string) error {
	g, err := in.spawn([]string{t.Shim, "-db", "-f", in.cfg, "-dR"}, env)
	if err != nil {
		return err
	}
	_, err = WaitShowInfo(ctx, in.socket, g.Start, g.Exited)
	if kerr := g.Kill(); kerr != nil && err == nil {
		err = kerr
	}
	if err != nil {
		return fmt.Errorf("haproxy through the shim: %v; %s (see %s)", err, in.logTail(), stateDir)
	}
	data, err := os.ReadFile(filepath.Join(stateDir, state.InstanceID([]string{in.cfg}), state.PatchedFile))
	if err != nil {
		return err
	}
	in.patched = filepath.Join(in.dir, "patched-direct.cfg")
	return os.WriteFile(in.patched, data, 0o644)
}
