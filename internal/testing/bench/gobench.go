package bench

import (
	"bufio"
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/serve-launch/serve-launch/internal/patch"
	"github.com/serve-launch/serve-launch/internal/patch/load"
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
func RunGoBench(ctx context.Context, goTool, dir string, count int, benchtime string) ([]GoBench, string, error) {
	args := []string{"test", "-run", "^$", "-bench", "^Benchmark(Shape255|LoadRepoOverrides)", "-benchmem",
		"-count", strconv.Itoa(count), "-benchtime", benchtime, "./internal/patch/"}
	cmd := exec.CommandContext(ctx, goTool, args...)
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
// large config, measured in one process in rotating order (see
// [PatchScaling]): per side, each round's ns per server.
type ScalingResult struct {
	Small, Large int
	NsPerServer  Rounds
	// Reps is how many patches of the small config a small side makes: as
	// many servers as one patch of the large config.
	Reps int
}

// Growth is the large size's ns per server over the small size's per
// round, and the A/A ratio.
func (s ScalingResult) Growth() (ratio, aa []float64) {
	return Ratios(s.NsPerServer[SideLarge], s.NsPerServer[SideSmall]), Ratios(s.NsPerServer[SideSmallAA], s.NsPerServer[SideSmall])
}

// PatchScaling measures the patch engine (parse, apply the overrides of
// repo's overrides.d, render: what the shim does) at small and large
// servers, and at small again (the A/A side), rounds times in rotating
// order, in this process. Each side patches as many servers: the large
// config once, the small one large/small times, so the sides of a round
// take about as long and run back to back, and the machine's drift, which
// separate processes of a few hundred ms each let in (an A/A band of
// +-20-90% in session 7), cancels in a round. Each side runs as the shim
// does: on memory fresh from the kernel (the heap is handed back before
// it), which its first touches fault in, and with the garbage collector
// off. With the collector on and a warm heap, the small side reused the
// same few hot megabytes while the large side faulted its own in again,
// which measured the kernel's page faults, not the engine.
func PatchScaling(repo string, small, large, rounds int) (ScalingResult, error) {
	res := ScalingResult{Small: small, Large: large, NsPerServer: Rounds{}, Reps: max(1, large/small)}
	o, err := load.Dir(filepath.Join(repo, "overrides.d"), load.Options{})
	if err != nil {
		return res, err
	}
	cfg := map[int][]byte{}
	for _, n := range []int{small, large} {
		if cfg[n], err = Config(n, ConfigOptions{Dir: "/tmp/haproxy-serve"}); err != nil {
			return res, err
		}
	}
	run := func(servers, reps int) (float64, error) {
		// As in the shim: fresh memory from the kernel, and no collection.
		debug.FreeOSMemory()
		defer debug.SetGCPercent(debug.SetGCPercent(-1))
		start := time.Now()
		for range reps {
			if _, err := o.Patch("haproxy.cfg", cfg[servers], patch.ApplyOptions{}); err != nil {
				return 0, fmt.Errorf("patch %d servers: %v", servers, err)
			}
		}
		return float64(time.Since(start).Nanoseconds()) / float64(reps*servers), nil
	}
	// One untimed pass of each warms the caches and the heap's size.
	for _, n := range []int{small, large} {
		if _, err := run(n, 1); err != nil {
			return res, err
		}
	}
	sides := []string{SideSmall, SideLarge, SideSmallAA}
	size := map[string]int{SideSmall: small, SideLarge: large, SideSmallAA: small}
	reps := map[string]int{SideSmall: res.Reps, SideLarge: 1, SideSmallAA: res.Reps}
	for i := range rounds {
		for _, k := range Order(i, len(sides)) {
			v, err := run(size[sides[k]], reps[sides[k]])
			if err != nil {
				return res, err
			}
			res.NsPerServer[sides[k]] = append(res.NsPerServer[sides[k]], v)
		}
	}
	return res, nil
}
