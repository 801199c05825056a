package bench

import (
	"bufio"
	"fmt"
	"os/exec"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// GoBench is one Go benchmark: the best of its repeated runs.
type GoBench struct {
	// Op is Parse, Apply, Render or Patch; Servers is the config size.
	Op      string
	Servers int
	NsOp    float64
	BytesOp int64
	Allocs  int64
}

// NsPerServer is the cost divided by the config's server count.
func (g GoBench) NsPerServer() float64 { return g.NsOp / float64(g.Servers) }

var benchLine = regexp.MustCompile(`^BenchmarkShape255(\w+)/servers=(\d+)(?:-\d+)?\s+\d+\s+([0-9.]+) ns/op.*?\s(\d+) B/op\s+(\d+) allocs/op`)

// RunGoBench runs the patch package's Shape255 benchmarks count times in
// dir (the repository) and keeps each one's fastest run: on a shared,
// noisy machine the minimum is the run least disturbed by others.
func RunGoBench(goTool, dir string, count int, benchtime string) ([]GoBench, string, error) {
	args := []string{"test", "-run", "^$", "-bench", "^BenchmarkShape255", "-benchmem",
		"-count", strconv.Itoa(count), "-benchtime", benchtime, "./internal/patch/"}
	cmd := exec.Command(goTool, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	command := "go " + strings.Join(args, " ")
	if err != nil {
		return nil, command, fmt.Errorf("%s: %v\n%s", command, err, out)
	}
	best := map[string]GoBench{}
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		m := benchLine.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		n, _ := strconv.Atoi(m[2])
		ns, _ := strconv.ParseFloat(m[3], 64)
		b, _ := strconv.ParseInt(m[4], 10, 64)
		a, _ := strconv.ParseInt(m[5], 10, 64)
		k := m[1] + "/" + m[2]
		if old, ok := best[k]; ok && old.NsOp <= ns {
			continue
		}
		best[k] = GoBench{Op: m[1], Servers: n, NsOp: ns, BytesOp: b, Allocs: a}
	}
	if len(best) == 0 {
		return nil, command, fmt.Errorf("%s printed no benchmark lines:\n%s", command, out)
	}
	order := map[string]int{"Parse": 0, "Apply": 1, "Render": 2, "Patch": 3}
	var list []GoBench
	for _, g := range best {
		list = append(list, g)
	}
	sort.Slice(list, func(i, j int) bool {
		if list[i].Op != list[j].Op {
			return order[list[i].Op] < order[list[j].Op]
		}
		return list[i].Servers < list[j].Servers
	})
	return list, command, nil
}
