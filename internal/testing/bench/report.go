package bench

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// Goals from the benchmarks issue (22).
const (
	// GoalRenderShare bounds `serve-launch render` over `haproxy -c` at
	// GoalRenderServers servers.
	GoalRenderShare   = 0.10
	GoalRenderServers = 16384
	// GoalStartShare bounds the shim's own cost per start over haproxy's
	// own start to ready, at every size; GoalStartMs bounds it in ms at
	// GoalStartMsServers servers.
	GoalStartShare     = 0.05
	GoalStartMs        = 2.0
	GoalStartMsServers = 5
	// GoalScaling bounds the patch engine's ns per server at the largest
	// engine size over the 1024-server one.
	GoalScaling = 1.2
	// GoalDataPlane is the least shim / direct ratio of throughput and of
	// requests per CPU second.
	GoalDataPlane = 0.99
	// The memory goals are the "15 MB" and "25 MB", in MB of
	// 10^6 bytes, the stricter reading; the shim's at every size.
	GoalShimMB     = 15
	GoalLauncherMB = 25
	// GoalTook bounds the whole `make bench`.
	GoalTook = 10 * time.Minute
)

// Machine describes where the numbers were taken.
type Machine struct {
	Cores, CPU, HAProxy, Go, Wrk, Kernel string
	// Load is /proc/loadavg when the run started: the machine is shared.
	Load string
	// StateFS is the file system of the scratch directory, which holds the
	// state dirs the shim writes its patched copy and record into.
	StateFS string
	// Files is the open files limit the measurements run under.
	Files string
	Date  time.Time
}

// Results is everything one `make bench` run measured. A section that
// failed is nil or empty and its error is in Errors.
type Results struct {
	Command string
	Machine Machine
	Took    time.Duration
	// GoBenchCommand and GoBench are the patch engine's Go benchmarks.
	GoBenchCommand string
	GoBench        []GoBench
	Scaling        *ScalingResult
	Render         []RenderResult
	Start          []StartResult
	DataPlane      *DataPlaneResult
	Reload         *ReloadResult
	ShimRSS        []RSSResult
	Errors         []string
}

// Row is one goal of the summary: a statistic's rounds summed up, its
// noise band, the interval both allow, and the verdict.
type Row struct {
	Name string
	Kind Kind
	Est  Estimate
	// Band is the A/A noise band (see [Band]); HasBand is false for a
	// measurement without an A/A side, whose interval is its own.
	Band    float64
	HasBand bool
	Lo, Hi  float64
	Goal    Goal
	// HasGoal is false for a row shown for context.
	HasGoal bool
	Verdict string
	// Format writes a value of the statistic.
	Format func(float64) string
}

// judged builds the row of a paired statistic with an A/A side.
func judged(name string, k Kind, xs, aa []float64, g Goal, hasGoal bool, format func(float64) string) Row {
	r := Row{Name: name, Kind: k, Est: Estimated(xs), Band: Band(k, aa), HasBand: true, Goal: g, HasGoal: hasGoal, Format: format}
	r.Lo, r.Hi = Interval(k, r.Est, r.Band)
	if hasGoal {
		r.Verdict = Judge(g, r.Lo, r.Hi)
	}
	return r
}

// ranged builds the row of a measurement whose runs' spread is its
// interval (peak RSS: the worst run is the value judged).
func ranged(name string, xs []float64, g Goal, format func(float64) string) Row {
	e := Estimated(xs)
	r := Row{Name: name, Est: e, Goal: g, HasGoal: true, Format: format}
	r.Lo, r.Hi = Quantile(xs, 0), Quantile(xs, 1)
	r.Verdict = Judge(g, r.Lo, r.Hi)
	return r
}

// exact builds the row of a count or a single number, judged as it is.
func exact(name string, v float64, g Goal, format func(float64) string) Row {
	r := Row{Name: name, Est: Estimate{Median: v, Q1: v, Q3: v, Lo: v, Hi: v, N: 1}, Lo: v, Hi: v, Goal: g, HasGoal: true, Format: format}
	r.Verdict = Judge(g, v, v)
	return r
}

func ms(v float64) string    { return fmt.Sprintf("%.2f ms", v) }
func ratio(v float64) string { return fmt.Sprintf("%.3f", v) }
func count(v float64) string { return fmt.Sprintf("%.0f", v) }

// mbOf shows KiB (as the kernel reports RSS) in MB of 10^6 bytes.
func mbOf(kib float64) string { return fmt.Sprintf("%.1f MB", kib*1024/1e6) }

// mbKiB is a goal in MB as KiB.
func mbKiB(mb float64) float64 { return mb * 1e6 / 1024 }

func minutes(v float64) string {
	return (time.Duration(v * float64(time.Minute))).Round(time.Second).String()
}

// Rows are the summary's goals, in the report's order.
func (r *Results) Rows() []Row {
	var rows []Row
	if s := r.Scaling; s != nil {
		x, aa := s.Growth()
		rows = append(rows, judged(fmt.Sprintf("patch engine ns/server, %d over %d servers", s.Large, s.Small), Ratio, x, aa,
			Goal{Limit: GoalScaling}, true, ratio))
	}
	for _, rr := range r.Render {
		x, aa := rr.Share()
		rows = append(rows, judged(fmt.Sprintf("`serve-launch render` / `haproxy -c`, %d servers", rr.Servers), Ratio, x, aa,
			Goal{Limit: GoalRenderShare}, rr.Servers == GoalRenderServers, ratio))
	}
	for _, st := range r.Start {
		if st.Servers == GoalStartMsServers {
			x, aa := st.Own()
			rows = append(rows, judged(fmt.Sprintf("shim's own cost per start, %d servers", st.Servers), Difference, x, aa,
				Goal{Limit: GoalStartMs}, true, ms))
		}
	}
	for _, st := range r.Start {
		if st.Servers == GoalStartMsServers {
			if x, aa := st.FloorOwn(); x != nil {
				rows = append(rows, judged(fmt.Sprintf("execfloor's own cost per start (Go, exec only), %d servers", st.Servers), Difference, x, aa,
					Goal{Limit: GoalStartMs}, true, ms))
				x, aa = st.BeyondFloor()
				rows = append(rows, judged(fmt.Sprintf("shim's cost beyond execfloor's per start, %d servers", st.Servers), Difference, x, aa,
					Goal{}, false, ms))
			}
		}
	}
	for _, st := range r.Start {
		if st.Servers == GoalStartMsServers && len(st.CPU[SideShim]) > 0 {
			x, aa := st.OwnCPU()
			rows = append(rows, judged(fmt.Sprintf("shim's own CPU time per start, %d servers", st.Servers), Difference, x, aa,
				Goal{Limit: GoalStartMs}, false, ms))
		}
	}
	for _, st := range r.Start {
		x, aa := st.OwnShare()
		rows = append(rows, judged(fmt.Sprintf("shim's own cost / haproxy's start to ready, %d servers", st.Servers), Difference, x, aa,
			Goal{Limit: GoalStartShare}, true, ratio))
		if x, aa := st.FloorShare(); x != nil {
			rows = append(rows, judged(fmt.Sprintf("execfloor's own cost / haproxy's start to ready, %d servers", st.Servers), Difference, x, aa,
				Goal{Limit: GoalStartShare}, true, ratio))
		}
	}
	if d := r.DataPlane; d != nil {
		x, aa := d.Throughput()
		rows = append(rows, judged("throughput, shim / direct", Ratio, x, aa, Goal{Limit: GoalDataPlane, AtLeast: true}, true, ratio))
		x, aa = d.Efficiency()
		rows = append(rows, judged("requests per CPU second, shim / direct", Ratio, x, aa, Goal{Limit: GoalDataPlane, AtLeast: true}, true, ratio))
	}
	if rl := r.Reload; rl != nil {
		rows = append(rows, exact(fmt.Sprintf("failed requests during %d hot reloads (%d requests)", len(rl.Latency), rl.Requests),
			float64(rl.Failed), Goal{Limit: 0}, count))
	}
	for _, m := range r.ShimRSS {
		rows = append(rows, ranged(fmt.Sprintf("shim peak RSS, %d servers (worst of %d runs)", m.Servers, len(m.ShimKiB)), m.ShimKiB,
			Goal{Limit: mbKiB(GoalShimMB)}, mbOf))
	}
	if rl := r.Reload; rl != nil && rl.LauncherKiB > 0 {
		rows = append(rows, exact("launcher (`serve-launch run`) peak RSS, one run", float64(rl.LauncherKiB), Goal{Limit: mbKiB(GoalLauncherMB)}, mbOf))
	}
	if r.Took > 0 {
		rows = append(rows, exact("`make bench`'s measurements, wall time", r.Took.Minutes(), Goal{Limit: GoalTook.Minutes()}, minutes))
	}
	return rows
}

func (g Goal) String(format func(float64) string) string {
	if g.AtLeast {
		return ">= " + format(g.Limit)
	}
	return "<= " + format(g.Limit)
}

// band writes a row's noise band.
func (r Row) band() string {
	switch {
	case !r.HasBand:
		return "-"
	case r.Kind == Ratio:
		return fmt.Sprintf("±%.1f%%", 100*r.Band)
	}
	return "±" + r.Format(r.Band)
}

func (r Row) verdict() string {
	switch {
	case !r.HasGoal:
		return "(context)"
	case r.Verdict == Pass:
		return Pass
	}
	return "**" + r.Verdict + "**"
}

func (r Row) goal() string {
	if !r.HasGoal {
		return "-"
	}
	return r.Goal.String(r.Format)
}

func list(xs []float64, format string) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = fmt.Sprintf(format, x)
	}
	return strings.Join(s, " ")
}

// side writes one side's median, IQR and rounds.
func side(xs []float64, format string) string {
	q1, q3 := IQR(xs)
	return fmt.Sprintf("%s [%s, %s]", fmt.Sprintf(format, Median(xs)), fmt.Sprintf(format, q1), fmt.Sprintf(format, q3))
}

// Markdown writes BENCHMARKS.md.
func (r *Results) Markdown(w io.Writer) {
	p := func(format string, a ...any) { fmt.Fprintf(w, format, a...) }
	p("# Benchmarks\n\n")
	p("Generated by `%s` (internal/testing/bench/cmd/benchrun) on %s; its measurements took %s.\n", r.Command, r.Machine.Date.UTC().Format("2006-01-02 15:04 MST"), r.Took.Round(time.Second))
	p("Do not edit by hand: run `make bench` again.\n\n")
	p("## How to read it\n\n")
	p("Every comparison runs in rounds. A round runs each side once, in an order that goes through\n")
	p("every permutation of the sides from round to round, and gives one value: the difference or\n")
	p("the ratio of its sides. Only sides of the same round are set against each other, because the\n")
	p("machine is shared and its speed drifts. The rounds' values are summed up by their median,\n")
	p("with the interquartile range [Q1, Q3] of the rounds and a 95%% confidence interval of the\n")
	p("median (distribution-free, from order statistics).\n\n")
	p("The noise band is the same comparison of a side against itself in the same rounds (an A/A\n")
	p("comparison: direct against direct, or `haproxy -c` against `haproxy -c`): how far from no\n")
	p("difference the 95%% interval of its median reaches, in the statistic's unit, or as a factor for\n")
	p("a ratio (±5%% is 1/1.05 to 1.05). The interval judged is the measured median's confidence\n")
	p("interval, widened on each side to at least the noise band. A verdict is PASS when that interval\n")
	p("lies within the goal, MISS when it lies wholly outside it, and NOISE when it straddles the\n")
	p("goal: the run cannot tell. Peak\n")
	p("RSS is judged on its runs' range (the worst run is the value), counts and single numbers as\n")
	p("they are.\n\n")
	p("Configs are in Ray 2.55's shape (raycfg.Render), patched by the repository's overrides.d, with\n")
	p("`maxconn 2000`, or less where haproxy could not start under the open files limit below with it\n")
	p("(see bench.MaxConnFor: 1700 at 16384 servers under 20000).\n\n")

	p("## Machine\n\n")
	p("| | |\n|---|---|\n")
	p("| cores (nproc) | %s |\n| CPU | %s |\n| load average at the start | %s |\n| kernel | %s |\n| haproxy | %s |\n| Go | %s |\n| wrk | %s |\n| state dirs' file system | %s |\n| open files limit | %s |\n\n",
		r.Machine.Cores, r.Machine.CPU, r.Machine.Load, r.Machine.Kernel, r.Machine.HAProxy, r.Machine.Go, r.Machine.Wrk, r.Machine.StateFS, r.Machine.Files)

	p("## Summary\n\n")
	p("| measurement | median [Q1, Q3] | 95%% CI of the median | noise band (A/A) | interval judged | goal | verdict |\n|---|---|---|---|---|---|---|\n")
	for _, row := range r.Rows() {
		e := row.Est
		p("| %s | %s [%s, %s] | %s to %s | %s | %s to %s | %s | %s |\n", row.Name, row.Format(e.Median), row.Format(e.Q1), row.Format(e.Q3),
			row.Format(e.Lo), row.Format(e.Hi), row.band(), row.Format(row.Lo), row.Format(row.Hi), row.goal(), row.verdict())
	}
	p("\n")
	r.floorFinding(p)
	if len(r.Errors) > 0 {
		p("## Sections that failed to run\n\n")
		for _, e := range r.Errors {
			p("- %s\n", strings.ReplaceAll(e, "\n", " "))
		}
		p("\n")
	}
	r.startSection(p)
	r.renderSection(p)
	r.engineSection(p)
	r.dataPlaneSection(p)
	r.reloadSection(p)
	r.memorySection(p)
	p("%s", notes)
}

// floorFinding says what the summary's execfloor rows mean for the start
// goals, when they mean something: a goal that a Go program doing nothing
// but exec misses by itself is out of reach of any Go shim on the machine.
// It writes nothing when the rows do not show that.
func (r *Results) floorFinding(p func(string, ...any)) {
	for _, st := range r.Start {
		x, aa := st.FloorOwn()
		if st.Servers != GoalStartMsServers || x == nil {
			continue
		}
		floor := judged("", Difference, x, aa, Goal{Limit: GoalStartMs}, true, ms)
		sx, saa := st.FloorShare()
		share := judged("", Difference, sx, saa, Goal{Limit: GoalStartShare}, true, ratio)
		var missed []string
		if floor.Verdict == Miss {
			missed = append(missed, fmt.Sprintf("the %s bound (it costs %s a start, 95%% CI %s to %s)", ms(GoalStartMs), ms(floor.Est.Median), ms(floor.Lo), ms(floor.Hi)))
		}
		if share.Verdict == Miss {
			missed = append(missed, fmt.Sprintf("the %s share of haproxy's start (it takes %s, 95%% CI %s to %s)", ratio(GoalStartShare), ratio(share.Est.Median), ratio(share.Lo), ratio(share.Hi)))
		}
		if len(missed) == 0 {
			continue
		}
		them := "that goal"
		if len(missed) > 1 {
			them = "those goals"
		}
		bx, _ := st.BeyondFloor()
		p("At %d servers, execfloor, a static Go program that does nothing but exec, misses by itself\n", st.Servers)
		p("%s: on this machine no Go program in the shim's place can meet %s. The shim's cost\n", strings.Join(missed, " and "), them)
		p("beyond execfloor's is %s a start (median of the rounds).\n\n", ms(Median(bx)))
	}
}

func (r *Results) startSection(p func(string, ...any)) {
	if len(r.Start) == 0 {
		return
	}
	p("## The shim's own cost per start\n\n")
	p("A stamp, a small static C program, stands in for the real haproxy: it writes the time it starts\n")
	p("and execs haproxy. Each side of a round is spawned, runs haproxy to its first `show info` answer\n")
	p("on the admin socket (polled every 1 ms) and is killed, so every run finds the caches as a start\n")
	p("after another haproxy does. Shim: `bin/haproxy -db -f CFG -dR` (a link to serve-launch-shim),\n")
	p("with the SERVE_LAUNCH_* environment the launcher gives Ray and the stamp as its real haproxy; it\n")
	p("patches and execs `stamp -W -db -f PATCHED -dR`. The verdict file knows the snippets' lines (the\n")
	p("steady state of Ray's reloads, which move servers), so no `haproxy -c` runs. Direct: `stamp -W\n")
	p("-db -f PATCHED -dR` on a copy of the file the shim wrote, the same environment; direct again is\n")
	p("the A/A side. The shim's own cost is, per round, the shim side's time from spawn to stamp less\n")
	p("the direct side's; haproxy's start to ready is the direct side's time from its stamp to the\n")
	p("`show info` answer.\n\n")
	p("| servers | rounds | spawn to stamp, shim | spawn to stamp, direct | direct again | execfloor | own cost | haproxy's start to ready | own / start |\n|---:|---:|---|---|---|---|---|---|---|\n")
	for _, st := range r.Start {
		own, _ := st.Own()
		share, _ := st.OwnShare()
		floor := "-"
		if f := st.Spawn[SideFloor]; len(f) > 0 {
			floor = side(f, "%.2f")
		}
		p("| %d | %d | %s | %s | %s | %s | %s | %s | %s |\n", st.Servers, len(st.Ready), side(st.Spawn[SideShim], "%.2f"), side(st.Spawn[SideDirect], "%.2f"),
			side(st.Spawn[SideDirectAA], "%.2f"), floor, side(own, "%.2f"), side(st.Ready, "%.1f"), side(share, "%.4f"))
	}
	p("\nMilliseconds, median [Q1, Q3] of the rounds. execfloor (`execfloor stamp ...`, a static Go\n")
	p("program that only execs) runs in the same rounds where shown: the least any Go program in the\n")
	p("shim's place costs a start.\n\n")
	var check []StartResult
	for _, st := range r.Start {
		if len(st.Check[SideShimCheck]) > 0 {
			check = append(check, st)
		}
	}
	if len(check) > 0 {
		p("A start whose snippet lines are new (the first start of a config, or a template giving new\n")
		p("values) also runs `haproxy -c` on them, once per new set of lines. Measured after the rounds\n")
		p("above with the verdict file removed before each shim run, against direct runs in the same\n")
		p("rounds (no goal):\n\n")
		p("| servers | rounds | spawn to stamp, shim with `haproxy -c` | direct | own cost with `haproxy -c` |\n|---:|---:|---|---|---|\n")
		for _, st := range check {
			c, d := st.Check[SideShimCheck], st.Check[SideDirect]
			p("| %d | %d | %s | %s | %s |\n", st.Servers, len(c), side(c, "%.1f"), side(d, "%.2f"), side(Diffs(c, d), "%.1f"))
		}
		p("\n")
	}
	p("<details><summary>Every round (ms from spawn to stamp)</summary>\n\n")
	for _, st := range r.Start {
		p("- %d servers. shim: %s. direct: %s. direct again: %s.", st.Servers, list(st.Spawn[SideShim], "%.2f"), list(st.Spawn[SideDirect], "%.2f"), list(st.Spawn[SideDirectAA], "%.2f"))
		if f := st.Spawn[SideFloor]; len(f) > 0 {
			p(" execfloor: %s.", list(f, "%.2f"))
		}
		p(" haproxy's start to ready: %s.\n", list(st.Ready, "%.1f"))
	}
	p("\n</details>\n\n")
}

func (r *Results) renderSection(p func(string, ...any)) {
	if len(r.Render) == 0 {
		return
	}
	p("## `serve-launch render` against `haproxy -c`\n\n")
	p("Whole processes: `serve-launch render --config CFG --overrides overrides.d` (start, load the\n")
	p("snippets, patch, print to /dev/null) against `haproxy -c -q -f CFG` on the same generated file,\n")
	p("and `haproxy -c` again as the A/A side. The goal applies at %d servers; the other sizes are\n", GoalRenderServers)
	p("shown for context (at small sizes render's time is mostly a Go process's start: the runtime\n")
	p("and every linked package's init). Milliseconds, median [Q1, Q3] of the rounds.\n\n")
	p("| servers | rounds | render | haproxy -c | haproxy -c again | render / haproxy -c |\n|---:|---:|---|---|---|---|\n")
	for _, rr := range r.Render {
		share, _ := rr.Share()
		p("| %d | %d | %s | %s | %s | %s |\n", rr.Servers, len(share), side(rr.Times[SideRender], "%.1f"), side(rr.Times[SideCheck], "%.1f"),
			side(rr.Times[SideCheckAA], "%.1f"), side(share, "%.3f"))
	}
	p("\n")
}

func (r *Results) engineSection(p func(string, ...any)) {
	if len(r.GoBench) == 0 && r.Scaling == nil {
		return
	}
	p("## The patch engine (Go benchmarks)\n\n")
	if s := r.Scaling; s != nil {
		x, _ := s.Growth()
		p("Scaling: patch.Overrides.Patch (parse, apply the repository's overrides.d, render: what the shim\n")
		p("does) at %d and %d servers and at %d again (the A/A side), in benchrun's process, %d rounds in\n", s.Small, s.Large, s.Small, len(x))
		p("rotating order. Each side patches as many servers, the large config once and the small one %d\n", s.Reps)
		p("times, as the shim runs: on memory fresh from the kernel (the heap handed back before each side),\n")
		p("with the garbage collector off. ns per server, median [Q1, Q3]: %d servers\n", s.Small)
		p("%s; %d servers %s; %d again %s.\n\n", side(s.NsPerServer[SideSmall], "%.0f"), s.Large, side(s.NsPerServer[SideLarge], "%.0f"),
			s.Small, side(s.NsPerServer[SideSmallAA], "%.0f"))
	}
	if len(r.GoBench) > 0 {
		p("Every op and size: `%s`, median [Q1, Q3] of the runs. LoadDir is loading\n", r.GoBenchCommand)
		p("and validating the repository's overrides.d; Patch = Parse + Apply + Render. The garbage\n")
		p("collector runs as Go's default sets it (the shim turns it off).\n\n")
		p("| op | servers | ns/op | ns/server | B/op | allocs/op |\n|---|---:|---|---:|---:|---:|\n")
		for _, g := range r.GoBench {
			if g.Servers == 0 {
				p("| %s | - | %s | - | %d | %d |\n", g.Op, side(g.NsOp, "%.0f"), g.BytesOp, g.Allocs)
				continue
			}
			p("| %s | %d | %s | %.0f | %d | %d |\n", g.Op, g.Servers, side(g.NsOp, "%.0f"), g.NsPerServer(), g.BytesOp, g.Allocs)
		}
		p("\n")
	}
}

func (r *Results) dataPlaneSection(p func(string, ...any)) {
	d := r.DataPlane
	if d == nil {
		return
	}
	p("## Data plane\n\n")
	p("`%s` against `http://127.0.0.1:PORT/app1/predict`, haproxy in front of two emulated replicas\n", d.Command)
	p("(Go HTTP servers, raysim.Replica), the patched 2.55-shaped config. Each run starts haproxy\n")
	p("anew: through the shim, directly (`haproxy -W -db -f PATCHED -dR`, the argv the shim execs),\n")
	p("or directly again (the A/A side); the same binary, file, environment and limits. CPU is the\n")
	p("time on CPU of haproxy's processes and threads during the load (/proc's schedstat). Median [Q1,\n")
	p("Q3] of the rounds.\n\n")
	p("| | shim | direct | direct again |\n|---|---|---|---|\n")
	p("| requests/s | %s | %s | %s |\n", side(d.RPS[SideDPShim], "%.0f"), side(d.RPS[SideDPDirect], "%.0f"), side(d.RPS[SideDPDirectAA], "%.0f"))
	p("| requests per CPU second | %s | %s | %s |\n", side(d.PerCPU[SideDPShim], "%.0f"), side(d.PerCPU[SideDPDirect], "%.0f"), side(d.PerCPU[SideDPDirectAA], "%.0f"))
	p("| p99 latency (ms) | %s | %s | %s |\n\n", side(d.P99[SideDPShim], "%.2f"), side(d.P99[SideDPDirect], "%.2f"), side(d.P99[SideDPDirectAA], "%.2f"))
	p("Errors (socket + non-2xx) over all runs: %d.\n\n", d.Errors)
}

func (r *Results) reloadSection(p func(string, ...any)) {
	rl := r.Reload
	if rl == nil {
		return
	}
	p("## Hot reload under load\n\n")
	p("`serve-launch run --overrides COPY_OF_overrides.d -- raysim -apps 1 -replicas 2` with its watcher on,\n")
	p("%d Go clients sending GETs back to back through haproxy, and %d edits of 10-rate-limits.toml\n", rl.Clients, len(rl.Latency))
	p("(`mul .Servers 512` -> 513, 514, ...). Latency is from the file write to `show info` reporting\n")
	p("the new ConnRateLimit; it includes the watcher's 200 ms debounce, `haproxy -c` on the candidate and\n")
	p("haproxy's master re-exec on SIGUSR2. No goal on the latency.\n\n")
	p("| | |\n|---|---|\n")
	p("| reload latency (ms) | median %.0f; runs %s |\n", Median(rl.Latency), list(rl.Latency, "%.0f"))
	p("| requests / failed | %d / %d |\n", rl.Requests, rl.Failed)
	if len(rl.FirstErrors) > 0 {
		p("| first failures | %s |\n", strings.Join(rl.FirstErrors, "; "))
	}
	p("\n")
}

func (r *Results) memorySection(p func(string, ...any)) {
	if len(r.ShimRSS) == 0 {
		return
	}
	p("## Memory\n\n")
	p("Shim: Linux keeps a process's peak RSS across exec (exec_mmap folds the old image's high-water\n")
	p("mark into the signal struct's maxrss) and wait4 reports the maximum over every image the process\n")
	p("ran. The shim runs with `true` as its real haproxy, started by a spawner that forks a small\n")
	p("process (so the spawner's memory does not count), and its wait4 ru_maxrss is the shim's peak\n")
	p("up to the exec; `true` alone, started the same way, is the floor. The steady state (the\n")
	p("verdict file knows the snippets' lines).\n\n")
	p("| servers | runs | shim peak RSS, median [Q1, Q3] | worst | `true` alone | per server above 5 servers |\n|---:|---:|---|---|---|---:|\n")
	var base float64
	for _, m := range r.ShimRSS {
		if m.Servers == 5 {
			base = Median(m.ShimKiB)
		}
	}
	for _, m := range r.ShimRSS {
		q1, q3 := IQR(m.ShimKiB)
		per := "-"
		if base > 0 && m.Servers > 5 {
			per = fmt.Sprintf("%.0f bytes", (Median(m.ShimKiB)-base)*1024/float64(m.Servers-5))
		}
		p("| %d | %d | %s [%s, %s] | %s | %s | %s |\n", m.Servers, len(m.ShimKiB), mbOf(Median(m.ShimKiB)), mbOf(q1), mbOf(q3),
			mbOf(Quantile(m.ShimKiB, 1)), mbOf(float64(m.TrueKiB)), per)
	}
	if rl := r.Reload; rl != nil && rl.LauncherKiB > 0 {
		p("\nLauncher: VmHWM of the `serve-launch run` process (from /proc/PID/status) after its preflight,\n")
		p("startup and the hot reloads above: %s.\n", mbOf(float64(rl.LauncherKiB)))
	}
	p("\n")
}
