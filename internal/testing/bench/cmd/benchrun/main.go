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
	"strings"
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
		serveLaunch = fs.String("serve-launch", "bin/serve-launch", "serve-launch binary")
		raysimBin   = fs.String("raysim", "bin/raysim", "raysim binary")
		execFloor   = fs.String("exec-floor", "bin/execfloor", "execfloor binary (internal/bench/cmd/execfloor), a Go program that only execs")
		haproxy     = fs.String("haproxy", "haproxy", "the real haproxy")
		wrk         = fs.String("wrk", "wrk", "wrk binary (a Go load generator is used when it is not found)")
		out         = fs.String("out", "BENCHMARKS.md", "report to write")
		runs        = fs.Int("runs", 40, "runs per side for render/check and start comparisons (haproxy starts here are bimodal, so fewer runs make the median jumpy)")
		wrkRuns     = fs.Int("wrk-runs", 20, "wrk runs per side (a run here spreads by ±20%, so fewer make the median ratio jumpy)")
		wrkDur      = fs.Duration("wrk-duration", 2*time.Second, "length of one wrk run")
		reloads     = fs.Int("reloads", 5, "hot reloads under load")
		goCount     = fs.Int("go-count", 5, "go test -count for the Go benchmarks")
		goTime      = fs.String("go-benchtime", "50ms", "go test -benchtime")
		only        = fs.String("only", "go,render,start,dataplane,reload,rss", "sections to run, comma separated")
		keep        = fs.Bool("keep", false, "keep the scratch directory (logs, state dirs) for a look afterwards")
		limit       = fs.Duration("timeout", 10*time.Minute, "bound on the whole run")
	)
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
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

	start := time.Now()
	res := &bench.Results{
		Command:       "make bench",
		Machine:       machine(t.HAProxy, wrkPath, work, start),
		Runs:          *runs,
		DataPlaneRuns: *wrkRuns,
	}
	fail := func(section string, err error) {
		logf("%s: %v", section, err)
		res.Errors = append(res.Errors, section+": "+err.Error())
	}

	want := map[string]bool{}
	for _, s := range strings.Split(*only, ",") {
		want[strings.TrimSpace(s)] = true
	}
	if want["go"] {
		logf("go benchmarks (go test -bench, count %d)", *goCount)
		// The go on PATH: `make bench` runs with its $(GO) there.
		goTool, lerr := exec.LookPath("go")
		if lerr != nil {
			fail("go benchmarks", lerr)
		}
		if res.GoBench, res.GoBenchCommand, err = bench.RunGoBench(goTool, *repo, *goCount, *goTime); err != nil {
			fail("go benchmarks", err)
		}
	}
	for _, n := range bench.Sizes {
		if !want["render"] {
			break
		}
		logf("render vs haproxy -c, %d servers", n)
		s, err := t.RenderVsCheck(n, *runs)
		if err != nil {
			fail(fmt.Sprintf("render vs haproxy -c at %d servers", n), err)
			continue
		}
		res.Render = append(res.Render, bench.SizeSample{Servers: n, Sample: s})
	}
	for _, n := range bench.Sizes {
		if !want["start"] {
			break
		}
		logf("start overhead, %d servers", n)
		st, err := t.StartOverhead(ctx, n, *runs)
		if err != nil {
			fail(fmt.Sprintf("start overhead at %d servers", n), err)
			continue
		}
		res.Start = append(res.Start, bench.SizeSample{Servers: n, Sample: st.Shim})
		res.StartFloor = append(res.StartFloor, bench.SizeSample{Servers: n, Sample: st.Floor})
		res.StartOwn = append(res.StartOwn, bench.SizeSample{Servers: n, Sample: st.Own})
		res.StartFloorOwn = append(res.StartFloorOwn, bench.SizeSample{Servers: n, Sample: st.FloorOwn})
	}
	if want["dataplane"] {
		logf("data plane, %d x %s per side", *wrkRuns, *wrkDur)
		if d, err := t.DataPlane(ctx, wrkPath, *wrkRuns, *wrkDur); err != nil {
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
	for _, n := range bench.Sizes {
		if !want["rss"] {
			break
		}
		logf("shim peak RSS, %d servers", n)
		shim, tr, ms, err := t.ShimPeakRSS(n, *runs)
		if err != nil {
			fail(fmt.Sprintf("shim RSS at %d servers", n), err)
			continue
		}
		res.ShimRSS = append(res.ShimRSS, bench.RSSResult{Servers: n, ShimKiB: shim, TrueKiB: tr, ShimMs: ms})
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
		CPU:     "unknown",
		Wrk:     "not found: Go load generator",
		Date:    now,
	}
	if wrk != "" {
		m.Wrk = first(wrk, "-v")
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
