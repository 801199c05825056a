// Command benchrun is `make bench`: it measures serve-launch against haproxy
// side by side (see package bench) and writes BENCHMARKS.md.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/serve-launch/serve-launch/internal/testing/bench"
)

func main() {
	// First thing, before this process grows: see bench.MaybeRunSpawner.
	bench.MaybeRunSpawner()
	os.Exit(run(context.Background(), os.Args, os.Stderr))
}

func run(ctx context.Context, args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("benchrun", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		repo        = fs.String("repo", ".", "repository root (holds overrides.d and internal/patch)")
		serveLaunch = fs.String("serve-launch", "bin/serve-launch", "serve-launch binary (serve-launch-shim beside it)")
		raysimBin   = fs.String("raysim", "bin/raysim", "raysim binary")
		execFloor   = fs.String("exec-floor", "bin/execfloor", "execfloor binary (internal/testing/bench/cmd/execfloor), a Go program that only execs")
		haproxy     = fs.String("haproxy", "haproxy", "the real haproxy")
		wrk         = fs.String("wrk", "wrk", "wrk binary (a Go load generator is used when it is not found)")
		cc          = fs.String("cc", "cc", "C compiler that builds the stamp (see package bench)")
		out         = fs.String("out", "BENCHMARKS.md", "report to write")
		rounds      = fs.String("rounds", "5:30,64:20,1024:16,4096:16,16384:16", "rounds of the start and render measurements per config size (SIZE:ROUNDS,...)")
		checkRounds = fs.Int("check-rounds", 2, "rounds of starts that run haproxy -c, per size")
		wrkRounds   = fs.Int("wrk-rounds", 12, "rounds of the data plane (three wrk runs each)")
		wrkDur      = fs.Duration("wrk-duration", time.Second, "length of one wrk run")
		reloads     = fs.Int("reloads", 5, "hot reloads under load")
		rssRuns     = fs.Int("rss-runs", 10, "shim runs per size for the peak RSS")
		goCount     = fs.Int("go-count", 5, "go test -count for the Go benchmarks table")
		goTime      = fs.String("go-benchtime", "50ms", "go test -benchtime for the Go benchmarks table")
		scaleRounds = fs.Int("scaling-rounds", 20, "rounds of the patch engine's scaling measurement")
		only        = fs.String("only", "go,scaling,start,render,dataplane,reload,rss", "sections to run, comma separated")
		sizesFlag   = fs.String("sizes", "", "config sizes of the whole-process sections, comma separated (default: every size of bench.Sizes)")
		keep        = fs.Bool("keep", false, "keep the scratch directory (logs, state dirs) for a look afterwards")
		limit       = fs.Duration("timeout", 10*time.Minute, "bound on the whole run")
	)
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	raiseFileLimit()
	began := time.Now()
	logf := func(format string, a ...any) {
		fmt.Fprintf(stderr, "benchrun: %4.0fs "+format+"\n", append([]any{time.Since(began).Seconds()}, a...)...)
	}
	ctx, cancel := context.WithTimeout(ctx, *limit)
	defer cancel()

	work, err := os.MkdirTemp("", "serve-launch-bench-")
	if err != nil {
		logf("error: %v", err)
		return 1
	}
	if *keep {
		logf("keeping %s", work)
	} else {
		defer os.RemoveAll(work)
	}
	t := &bench.Tools{Work: work}
	if t.Self, err = os.Executable(); err != nil {
		logf("error: %v", err)
		return 1
	}
	for _, p := range []struct {
		dst  *string
		path string
	}{{&t.ServeLaunch, *serveLaunch}, {&t.RaySim, *raysimBin}, {&t.ExecFloor, *execFloor}, {&t.HAProxy, *haproxy}, {&t.Overrides, filepath.Join(*repo, "overrides.d")}} {
		abs, err := lookAbs(p.path)
		if err != nil {
			logf("error: %v", err)
			return 1
		}
		*p.dst = abs
	}
	if err := t.MakeShim(); err != nil {
		logf("error: %v", err)
		return 1
	}
	wrkPath, err := exec.LookPath(*wrk)
	if err != nil {
		logf("wrk not found (%v): using the Go load generator", err)
		wrkPath = ""
	}
	perSize, err := parseRounds(*rounds)
	if err != nil {
		logf("error: -rounds: %v", err)
		return 2
	}
	sizes := bench.Sizes
	if *sizesFlag != "" {
		if sizes, err = parseSizes(*sizesFlag); err != nil {
			logf("error: -sizes: %v", err)
			return 2
		}
	}
	roundsAt := func(n int) int {
		if r, ok := perSize[n]; ok {
			return r
		}
		return 10
	}

	start := time.Now()
	res := &bench.Results{
		Command: "make bench",
		Machine: machine(t.HAProxy, wrkPath, work, start),
	}
	fail := func(section string, err error) {
		logf("%s: %v", section, err)
		res.Errors = append(res.Errors, section+": "+err.Error())
	}
	want := map[string]bool{}
	for _, s := range strings.Split(*only, ",") {
		want[strings.TrimSpace(s)] = true
	}
	// The go on PATH: `make bench` runs with its $(GO) there.
	goTool, goErr := exec.LookPath("go")
	if want["go"] {
		logf("go benchmarks (go test -bench, count %d)", *goCount)
		if goErr != nil {
			fail("go benchmarks", goErr)
		} else if res.GoBench, res.GoBenchCommand, err = bench.RunGoBench(ctx, goTool, *repo, *goCount, *goTime); err != nil {
			fail("go benchmarks", err)
		}
	}
	if want["scaling"] {
		small, large := 1024, bench.EngineSizes[len(bench.EngineSizes)-1]
		logf("patch engine scaling, %d against %d servers, %d rounds", large, small, *scaleRounds)
		if s, err := bench.PatchScaling(*repo, small, large, *scaleRounds); err != nil {
			fail("scaling", err)
		} else {
			res.Scaling = &s
		}
	}
	if want["start"] {
		if *cc == "" {
			fail("start", fmt.Errorf("no C compiler for the stamp (-cc)"))
		} else if t.Stamp, err = bench.BuildStamp(*cc, work); err != nil {
			fail("start", err)
		}
	}
	for _, n := range sizes {
		if !want["start"] || t.Stamp == "" {
			break
		}
		o := bench.StartOptions{Rounds: roundsAt(n), Floor: n == sizes[0], CheckRounds: *checkRounds}
		logf("shim's own cost per start, %d servers, %d rounds", n, o.Rounds)
		st, err := t.StartOwnCost(ctx, n, o)
		if err != nil {
			fail(fmt.Sprintf("start at %d servers", n), err)
			continue
		}
		res.Start = append(res.Start, st)
	}
	for _, n := range sizes {
		if !want["render"] {
			break
		}
		logf("render vs haproxy -c, %d servers, %d rounds", n, roundsAt(n))
		s, err := t.RenderVsCheck(ctx, n, roundsAt(n))
		if err != nil {
			fail(fmt.Sprintf("render vs haproxy -c at %d servers", n), err)
			continue
		}
		res.Render = append(res.Render, s)
	}
	if want["dataplane"] {
		logf("data plane, %d rounds of 3 x %s", *wrkRounds, *wrkDur)
		if d, err := t.DataPlane(ctx, wrkPath, *wrkRounds, *wrkDur); err != nil {
			fail("data plane", err)
		} else {
			res.DataPlane = &d
		}
	}
	if want["reload"] {
		logf("hot reload under load, %d reloads", *reloads)
		if r, err := t.HotReload(ctx, *reloads, 8); err != nil {
			fail("hot reload", err)
		} else {
			res.Reload = &r
		}
	}
	for _, n := range sizes {
		if !want["rss"] {
			break
		}
		logf("shim peak RSS, %d servers", n)
		m, err := t.ShimPeakRSS(ctx, n, *rssRuns)
		if err != nil {
			fail(fmt.Sprintf("shim RSS at %d servers", n), err)
			continue
		}
		res.ShimRSS = append(res.ShimRSS, m)
	}
	res.Took = time.Since(start)

	var buf bytes.Buffer
	res.Markdown(&buf)
	if err := os.WriteFile(*out, buf.Bytes(), 0o644); err != nil {
		logf("error: %v", err)
		return 1
	}
	logf("wrote %s in %s", *out, res.Took.Round(time.Second))
	if len(res.Errors) > 0 {
		return 1
	}
	return 0
}

// raiseFileLimit lifts the open files limit, which haproxy and the shim
// inherit, as far as it goes: haproxy wants about maxconn*2 + one per
// server, 20421 at 16384 servers, and refuses to start below it. Both
// sides of every comparison run under the same limit.
func raiseFileLimit() {
	var l syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l) != nil {
		return
	}
	want := syscall.Rlimit{Cur: 1 << 16, Max: max(l.Max, 1<<16)}
	if syscall.Setrlimit(syscall.RLIMIT_NOFILE, &want) != nil {
		l.Cur = l.Max
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l)
	}
}

// parseRounds reads SIZE:ROUNDS,... into a map.
func parseRounds(s string) (map[int]int, error) {
	out := map[int]int{}
	for _, f := range strings.Split(s, ",") {
		a, b, ok := strings.Cut(strings.TrimSpace(f), ":")
		n, err1 := strconv.Atoi(a)
		r, err2 := strconv.Atoi(b)
		if !ok || err1 != nil || err2 != nil || r < 1 {
			return nil, fmt.Errorf("%q is not SIZE:ROUNDS", f)
		}
		out[n] = r
	}
	return out, nil
}

// parseSizes reads a comma separated list of server counts.
func parseSizes(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%q is not a server count", f)
		}
		out = append(out, n)
	}
	return out, nil
}

// fileLimit says the open files limit the measurements run under.
func fileLimit() string {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return "unknown: " + err.Error()
	}
	return fmt.Sprintf("%d (hard %d)", l.Cur, l.Max)
}

// lookAbs resolves a program name on PATH or a path, absolute.
func lookAbs(p string) (string, error) {
	if !strings.Contains(p, "/") {
		if _, err := os.Stat(p); err != nil {
			found, err := exec.LookPath(p)
			if err != nil {
				return "", err
			}
			p = found
		}
	}
	if _, err := os.Stat(p); err != nil {
		return "", err
	}
	return filepath.Abs(p)
}

// fsType names the file system dir is on as df does (ext4, tmpfs, ...):
// statfs's magic number, which stat -f reports, is one for ext2, 3 and 4.
func fsType(dir string) string {
	out, err := exec.Command("df", "--output=fstype", dir).Output()
	lines := strings.Fields(string(out))
	if err != nil || len(lines) < 2 {
		return fmt.Sprintf("unknown (df: %v)", err)
	}
	return lines[len(lines)-1]
}

func machine(haproxy, wrk, work string, now time.Time) bench.Machine {
	first := func(argv ...string) string {
		out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput()
		if err != nil && len(out) == 0 {
			return "unknown (" + err.Error() + ")"
		}
		line, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
		return line
	}
	m := bench.Machine{
		Cores:   first("nproc"),
		HAProxy: first(haproxy, "-v"),
		Go:      runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH,
		Kernel:  first("uname", "-r"),
		StateFS: fsType(work),
		Files:   fileLimit(),
		Load:    "unknown",
		CPU:     "unknown",
		Wrk:     "not found: Go load generator",
		Date:    now,
	}
	if wrk != "" {
		m.Wrk = first(wrk, "-v")
	}
	if data, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(data)); len(f) >= 3 {
			m.Load = strings.Join(f[:3], " ")
		}
	}
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
	}
	return m
}
