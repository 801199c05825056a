package bench

import (
	"bufio"
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// GoBench is one Go benchmark of the patch engine over its repeated runs.
type GoBench struct {
	// Op is LoadDir, Parse, Apply, Render or Patch; Servers is the config
	// size (0 for LoadDir).
	Op      string
	Servers int
	// NsOp holds every run's ns/op.
	NsOp    []float64
	BytesOp int64
	Allocs  int64
}

// NsPerServer is the median ns/op divided by the server count (0 for a
// benchmark without a config).
func (g GoBench) NsPerServer() float64 {
	if g.Servers == 0 {
		return 0
	}
	return Median(g.NsOp) / float64(g.Servers)
}

var benchLine = regexp.MustCompile(`^Benchmark(?:Shape255(\w+)/servers=(\d+)|(LoadRepoOverrides))(?:-\d+)?\s+\d+\s+([0-9.]+) ns/op.*?\s(\d+) B/op\s+(\d+) allocs/op`)

// RunGoBench runs the patch package's Shape255 benchmarks (and the loading
// of overrides.d, as Op "LoadDir" with Servers 0) count times in dir (the
// repository) and keeps every run.
func RunGoBench(goTool, dir string, count int, benchtime string) ([]GoBench, string, error) {
	args := []string{"test", "-run", "^$", "-bench", "^Benchmark(Shape255|LoadRepoOverrides)", "-benchmem",
		"-count", strconv.Itoa(count), "-benchtime", benchtime, "./internal/patch/"}
	cmd := exec.Command(goTool, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	command := "go " + strings.Join(args, " ")
	if err != nil {
		return nil, command, fmt.Errorf("%s: %v\n%s", command, err, out)
	}
	list := parseGoBench(string(out))
	if len(list) == 0 {
		return nil, command, fmt.Errorf("%s printed no benchmark lines:\n%s", command, out)
	}
	return list, command, nil
}

// parseGoBench reads `go test -bench -benchmem` output into one GoBench
// per benchmark with every run's ns/op, ordered LoadDir, Parse, Apply,
// Render, Patch and by size.
func parseGoBench(out string) []GoBench {
	runs := map[string]*GoBench{}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		m := benchLine.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		op := m[1]
		if m[3] != "" {
			op = "LoadDir"
		}
		n, _ := strconv.Atoi(m[2])
		ns, _ := strconv.ParseFloat(m[4], 64)
		b, _ := strconv.ParseInt(m[5], 10, 64)
		a, _ := strconv.ParseInt(m[6], 10, 64)
		k := op + "/" + m[2]
		g, ok := runs[k]
		if !ok {
			g = &GoBench{Op: op, Servers: n, BytesOp: b, Allocs: a}
			runs[k] = g
		}
		g.NsOp = append(g.NsOp, ns)
	}
	order := map[string]int{"LoadDir": 0, "Parse": 1, "Apply": 2, "Render": 3, "Patch": 4}
	var list []GoBench
	for _, g := range runs {
		list = append(list, *g)
	}
	slices.SortFunc(list, func(a, b GoBench) int {
		if a.Op != b.Op {
			return order[a.Op] - order[b.Op]
		}
		return a.Servers - b.Servers
	})
	return list
}

// The sides of the scaling measurement.
const (
	SideSmall   = "small"
	SideLarge   = "large"
	SideSmallAA = "small again"
)

// ScalingResult is the patch engine's cost per server at a small and a
// large config, from the Patch benchmark run as a process of its own per
// side and round, in rotating order: per side, each round's ns per server.
type ScalingResult struct {
	Small, Large int
	NsPerServer  Rounds
	// Command is the test binary's command line for one run.
	Command string
}

// Growth is the large size's ns per server over the small size's per
// round, and the A/A ratio.
func (s ScalingResult) Growth() (ratio, aa []float64) {
	return Ratios(s.NsPerServer[SideLarge], s.NsPerServer[SideSmall]), Ratios(s.NsPerServer[SideSmallAA], s.NsPerServer[SideSmall])
}

// PatchScaling builds the patch package's test binary once and runs its
// Patch benchmark at small and large servers, and at small again (the A/A
// side), rounds times in rotating order, each run for benchtime.
func PatchScaling(goTool, repo, work string, small, large, rounds int, benchtime time.Duration) (ScalingResult, error) {
	res := ScalingResult{Small: small, Large: large, NsPerServer: Rounds{}}
	bin := filepath.Join(work, "patch.test")
	if out, err := exec.Command(goTool, "test", "-c", "-o", bin, filepath.Join(repo, "internal", "patch")).CombinedOutput(); err != nil {
		// A relative repo needs the package path spelled Go's way.
		cmd := exec.Command(goTool, "test", "-c", "-o", bin, "./internal/patch")
		cmd.Dir = repo
		if out2, err2 := cmd.CombinedOutput(); err2 != nil {
			return res, fmt.Errorf("go test -c ./internal/patch: %v: %s%s", err2, out, out2)
		}
	}
	run := func(servers int) (float64, error) {
		args := []string{"-test.run", "^$", "-test.bench", fmt.Sprintf("^BenchmarkShape255Patch$/^servers=%d$", servers),
			"-test.benchtime", benchtime.String(), "-test.count", "1"}
		res.Command = "patch.test " + strings.Join(args, " ")
		cmd := exec.Command(bin, args...)
		cmd.Dir = filepath.Join(repo, "internal", "patch") // the benchmarks read ../../overrides.d
		out, err := cmd.CombinedOutput()
		if err != nil {
			return 0, fmt.Errorf("%s: %v: %s", res.Command, err, out)
		}
		list := parseGoBench(string(out))
		if len(list) != 1 || len(list[0].NsOp) != 1 {
			return 0, fmt.Errorf("%s printed no single benchmark line:\n%s", res.Command, out)
		}
		return list[0].NsOp[0] / float64(servers), nil
	}
	sides := []string{SideSmall, SideLarge, SideSmallAA}
	size := map[string]int{SideSmall: small, SideLarge: large, SideSmallAA: small}
	for i := range rounds {
		for _, k := range Order(i, len(sides)) {
			v, err := run(size[sides[k]])
			if err != nil {
				return res, err
			}
			res.NsPerServer[sides[k]] = append(res.NsPerServer[sides[k]], v)
		}
	}
	return res, nil
}
