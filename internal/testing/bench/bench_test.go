package bench

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/serve-launch/serve-launch/internal/testing/testenv"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// These tests check what turns measurements into BENCHMARKS.md: the
// statistics, the parsers of wrk, go test and spawner output, the configs
// measured and the report. No measurement runs here.

func TestQuantiles(t *testing.T) {
	tests := []struct {
		in             []float64
		median, q1, q3 float64
	}{
		{nil, 0, 0, 0},
		{[]float64{3}, 3, 3, 3},
		{[]float64{3, 1, 2}, 2, 1.5, 2.5},
		{[]float64{4, 1, 3, 2}, 2.5, 1.75, 3.25},
		{[]float64{5, 5, 1, 9, 5}, 5, 5, 5},
	}
	for _, tt := range tests {
		in := slices.Clone(tt.in)
		assert.Equal(t, tt.median, Median(in), "Median(%v)", tt.in)
		q1, q3 := IQR(in)
		assert.Equal(t, [2]float64{tt.q1, tt.q3}, [2]float64{q1, q3}, "IQR(%v)", tt.in)
		assert.Equal(t, tt.in, in, "the statistics must not reorder their input")
	}
}

func TestMedianCI(t *testing.T) {
	seq := func(n int) []float64 {
		xs := make([]float64, n)
		for i := range xs {
			xs[i] = float64(n - i) // reversed: MedianCI sorts
		}
		return xs
	}
	tests := []struct {
		n      int
		lo, hi float64
	}{
		// Too few values for 95%: the whole range.
		{5, 1, 5},
		// The textbook ranks: n=6 gives x(1), x(6); n=10 x(2), x(9);
		// n=20 x(6), x(15); n=40 x(14), x(27).
		{6, 1, 6},
		{10, 2, 9},
		{20, 6, 15},
		{40, 14, 27},
	}
	for _, tt := range tests {
		lo, hi := MedianCI(seq(tt.n))
		assert.Equal(t, [2]float64{tt.lo, tt.hi}, [2]float64{lo, hi}, "MedianCI of 1..%d", tt.n)
	}
	lo, hi := MedianCI(nil)
	assert.Equal(t, [2]float64{0, 0}, [2]float64{lo, hi})
}

func TestPairs(t *testing.T) {
	assert.Equal(t, []float64{1, -1}, Diffs([]float64{3, 1, 9}, []float64{2, 2}), "only rounds both sides have")
	assert.Equal(t, []float64{1.5, 0.5}, Ratios([]float64{3, 1, 7}, []float64{2, 2, 0}), "a zero base leaves the round out")
}

func TestBandAndVerdicts(t *testing.T) {
	// An A/A difference centred on 0 whose median's interval is [-0.1,
	// 0.3]: the band reaches 0.3 from no difference.
	aa := []float64{-0.4, -0.1, -0.1, 0, 0.1, 0.1, 0.2, 0.3, 0.3, 0.5}
	assert.InDelta(t, 0.3, Band(Difference, aa), 1e-9)
	// A ratio A/A around 1: the band is a factor, the larger of hi and
	// 1/lo of the interval [0.97, 1.05].
	assert.InDelta(t, 0.05, Band(Ratio, []float64{0.95, 0.97, 0.98, 1, 1, 1, 1.01, 1.02, 1.05, 1.1}), 1e-9)
	assert.InDelta(t, 1/0.9-1, Band(Ratio, []float64{0.8, 0.9, 0.95, 1, 1, 1, 1, 1.01, 1.02, 1.03}), 1e-9)
	assert.Equal(t, 0.0, Band(Difference, nil))

	tests := []struct {
		name    string
		kind    Kind
		est     Estimate
		band    float64
		goal    Goal
		lo, hi  float64
		verdict string
	}{
		{name: "clear pass", kind: Difference, est: Estimate{Median: 1.5, Lo: 1.4, Hi: 1.6}, band: 0.1, goal: Goal{Limit: 2}, lo: 1.4, hi: 1.6, verdict: Pass},
		{name: "the band widens the interval", kind: Difference, est: Estimate{Median: 1.5, Lo: 1.45, Hi: 1.55}, band: 0.6, goal: Goal{Limit: 2}, lo: 0.9, hi: 2.1, verdict: Noise},
		{name: "clear miss", kind: Difference, est: Estimate{Median: 2.5, Lo: 2.3, Hi: 2.8}, band: 0.1, goal: Goal{Limit: 2}, lo: 2.3, hi: 2.8, verdict: Miss},
		{name: "a ratio's band is a factor", kind: Ratio, est: Estimate{Median: 1.0, Lo: 1.0, Hi: 1.0}, band: 0.02, goal: Goal{Limit: 0.99, AtLeast: true}, lo: 1 / 1.02, hi: 1.02, verdict: Noise},
		{name: "at least, pass", kind: Ratio, est: Estimate{Median: 1.0, Lo: 0.995, Hi: 1.004}, band: 0.005, goal: Goal{Limit: 0.99, AtLeast: true}, lo: 0.995, hi: 1.005, verdict: Pass},
		{name: "at least, miss", kind: Ratio, est: Estimate{Median: 0.9, Lo: 0.88, Hi: 0.92}, band: 0.01, goal: Goal{Limit: 0.99, AtLeast: true}, lo: 0.88, hi: 0.92, verdict: Miss},
		{name: "on the limit passes", kind: Difference, est: Estimate{Median: 2, Lo: 2, Hi: 2}, goal: Goal{Limit: 2}, lo: 2, hi: 2, verdict: Pass},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lo, hi := Interval(tt.kind, tt.est, tt.band)
			assert.InDelta(t, tt.lo, lo, 1e-9, "lo")
			assert.InDelta(t, tt.hi, hi, 1e-9, "hi")
			assert.Equal(t, tt.verdict, Judge(tt.goal, lo, hi))
		})
	}
}

func TestOrderGoesThroughEveryPermutation(t *testing.T) {
	for k := 1; k <= 4; k++ {
		seen := map[string]bool{}
		place := make([][]int, k) // place[side][position] counts
		for i := range place {
			place[i] = make([]int, k)
		}
		n := 1
		for j := 2; j <= k; j++ {
			n *= j
		}
		for i := range n {
			o := Order(i, k)
			sorted := slices.Sorted(slices.Values(o))
			require.Equal(t, permutations(k)[0], sorted, "Order(%d, %d) = %v is a permutation", i, k, o)
			seen[fmt.Sprint(o)] = true
			for pos, side := range o {
				place[side][pos]++
			}
		}
		assert.Len(t, seen, n, "k=%d: every permutation once in k! rounds", k)
		for side := range place {
			for pos := range place[side] {
				assert.Equal(t, n/k, place[side][pos], "k=%d: side %d runs at place %d equally often", k, side, pos)
			}
		}
		assert.Equal(t, Order(0, k), Order(n, k), "the order repeats after k! rounds")
	}
	assert.Equal(t, []int{0, 1}, Order(0, 2))
	assert.Equal(t, []int{1, 0}, Order(1, 2))
}

func TestReadStamps(t *testing.T) {
	stamp := func(mono, cpu uint64) []byte {
		b := binary.NativeEndian.AppendUint64(nil, mono)
		return binary.NativeEndian.AppendUint64(b, cpu)
	}
	got, err := readStamps(bytes.NewReader(append(stamp(5, 1), stamp(9, 2)...)))
	require.NoError(t, err)
	assert.Equal(t, Stamp{Mono: 9, CPU: 2}, got, "the last stamp is the start's: an earlier one is the shim's haproxy -c")
	_, err = readStamps(bytes.NewReader(nil))
	assert.ErrorContains(t, err, "never ran")
	_, err = readStamps(bytes.NewReader([]byte{1, 2, 3}))
	assert.ErrorContains(t, err, "multiple of 16")
}

func TestParseSchedstat(t *testing.T) {
	assert.Equal(t, int64(123456789), ParseSchedstat("123456789 5000 12\n"))
	assert.Equal(t, int64(0), ParseSchedstat(""))
}

func TestMaxConnFor(t *testing.T) {
	assert.Equal(t, 2000, MaxConnFor(5, 20000))
	assert.Equal(t, 2000, MaxConnFor(4096, 20000))
	assert.Equal(t, 1700, MaxConnFor(16384, 20000), "2*maxconn + servers must fit 20000")
	assert.Equal(t, 2000, MaxConnFor(16384, 1<<16))
	assert.Equal(t, 100, MaxConnFor(65536, 20000), "never below 100")
}

// wrkOut is wrk 4.1.0's --latency output, with errors of every kind.
const wrkOut = `Running 2s test @ http://127.0.0.1:8080/app1/predict
  2 threads and 50 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.52ms    1.10ms  20.13ms   90.12%
    Req/Sec    16.80k     1.02k   18.51k    70.00%
  Latency Distribution
     50%    1.29ms
     75%    1.71ms
     90%    2.37ms
     99%    6.36ms
  66888 requests in 2.00s, 9.31MB read
  Socket errors: connect 1, read 3, write 0, timeout 2
  Non-2xx or 3xx responses: 5
Requests/sec:  33441.51
Transfer/sec:      4.65MB
`

func TestParseWrk(t *testing.T) {
	tests := []struct {
		name, out string
		want      WrkResult
		err       string
	}{
		{name: "errors counted", out: wrkOut, want: WrkResult{RPS: 33441.51, P99ms: 6.36, Requests: 66888, Errors: 11}},
		{
			name: "microseconds, no errors",
			out:  strings.NewReplacer("     99%    6.36ms", "     99%  850.00us", "  Socket errors: connect 1, read 3, write 0, timeout 2\n", "", "  Non-2xx or 3xx responses: 5\n", "").Replace(wrkOut),
			want: WrkResult{RPS: 33441.51, P99ms: 0.85, Requests: 66888},
		},
		{
			name: "seconds",
			out:  strings.Replace(wrkOut, "     99%    6.36ms", "     99%    1.20s", 1),
			want: WrkResult{RPS: 33441.51, P99ms: 1200, Requests: 66888, Errors: 11},
		},
		{name: "no distribution", out: strings.Replace(wrkOut, "     99%    6.36ms\n", "", 1), err: "no 99% latency"},
		{name: "no rate", out: "unable to connect to 127.0.0.1:8080 Connection refused\n", err: "no Requests/sec"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseWrk(tt.out)
			if tt.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.err)
				return
			}
			require.NoError(t, err)
			assert.InDelta(t, tt.want.RPS, got.RPS, 1e-9)
			assert.InDelta(t, tt.want.P99ms, got.P99ms, 1e-9)
			assert.Equal(t, tt.want.Errors, got.Errors)
			assert.Equal(t, tt.want.Requests, got.Requests)
		})
	}
}

func TestParseSpawner(t *testing.T) {
	rss, code, err := ParseSpawner("maxrss 6348 exit 0\n")
	require.NoError(t, err)
	assert.Equal(t, 6348, rss)
	assert.Equal(t, 0, code)
	_, code, err = ParseSpawner("maxrss 1400 exit 127")
	require.NoError(t, err)
	assert.Equal(t, 127, code)
	for _, bad := range []string{"", "maxrss 12", "rss 1 exit 0", "maxrss x exit 0", "maxrss 1 exit y"} {
		_, _, err := ParseSpawner(bad)
		assert.Error(t, err, "%q", bad)
	}
}

func TestParseGoBench(t *testing.T) {
	out := `goos: linux
goarch: amd64
pkg: github.com/serve-launch/serve-launch/internal/patch
BenchmarkShape255Patch/servers=5-2         	    1411	     41582 ns/op	   56309 B/op	     147 allocs/op
BenchmarkShape255Parse/servers=1024-2      	     150	    384861 ns/op	  595442 B/op	     511 allocs/op
BenchmarkShape255Parse/servers=5-2         	    4000	     15000 ns/op	   33512 B/op	      47 allocs/op
BenchmarkShape255Parse/servers=5-2         	    4400	     13593 ns/op	   33512 B/op	      47 allocs/op
BenchmarkShape255Parse/servers=5-2         	    4100	     14100 ns/op	   33512 B/op	      47 allocs/op
BenchmarkLoadRepoOverrides-2               	     700	     85975 ns/op	   50979 B/op	     385 allocs/op
BenchmarkShape255Apply/servers=64          	    1600	     36510 ns/op	   27505 B/op	     121 allocs/op
PASS
ok  	github.com/serve-launch/serve-launch/internal/patch	3.1s
`
	want := []GoBench{
		{Op: "LoadDir", Servers: 0, NsOp: []float64{85975}, BytesOp: 50979, Allocs: 385},
		{Op: "Parse", Servers: 5, NsOp: []float64{15000, 13593, 14100}, BytesOp: 33512, Allocs: 47},
		{Op: "Parse", Servers: 1024, NsOp: []float64{384861}, BytesOp: 595442, Allocs: 511},
		{Op: "Apply", Servers: 64, NsOp: []float64{36510}, BytesOp: 27505, Allocs: 121},
		{Op: "Patch", Servers: 5, NsOp: []float64{41582}, BytesOp: 56309, Allocs: 147},
	}
	got := parseGoBench(out)
	assert.Equal(t, want, got)
	assert.InDelta(t, 14100.0/5, got[1].NsPerServer(), 1e-9, "ns/server is the median run's")
	assert.Empty(t, parseGoBench("FAIL\tgithub.com/serve-launch/serve-launch/internal/patch [build failed]\n"))
}

func TestLayout(t *testing.T) {
	tests := []struct{ servers, apps, replicas int }{
		{1, 1, 1},
		{5, 1, 5},
		{16, 1, 16},
		{17, 2, 16},
		{64, 4, 16},
		{4096, 256, 16},
	}
	for _, tt := range tests {
		apps, replicas := Layout(tt.servers)
		assert.Equal(t, [2]int{tt.apps, tt.replicas}, [2]int{apps, replicas}, "Layout(%d)", tt.servers)
	}
}

// TestConfigHasItsServers checks that a config measured as N servers has N
// server lines, over Layout's apps, in Ray 2.55's shape.
func TestConfigHasItsServers(t *testing.T) {
	for _, n := range []int{5, 17, 64, 1024} {
		data, err := Config(n, ConfigOptions{Dir: t.TempDir()})
		require.NoError(t, err)
		servers, backends := 0, 0
		for _, line := range strings.Split(string(data), "\n") {
			f := strings.Fields(line)
			switch {
			case len(f) > 0 && f[0] == "server":
				servers++
			case len(f) > 1 && f[0] == "backend" && strings.HasPrefix(f[1], "http-app"):
				backends++
			}
		}
		apps, _ := Layout(n)
		assert.Equal(t, n, servers, "server lines in the %d-server config", n)
		assert.Equal(t, apps, backends, "app backends in the %d-server config", n)
	}
}

// sampleResults is a run with every section, its numbers chosen so that
// goals pass, miss and come out as noise.
func sampleResults() *Results {
	rounds := func(xs ...float64) []float64 { return xs }
	// ten rounds each, so the medians' intervals are the 2nd and 9th values
	ten := func(base, step float64) []float64 {
		xs := make([]float64, 10)
		for i := range xs {
			xs[i] = base + step*float64(i)
		}
		return xs
	}
	return &Results{
		Command: "make bench",
		Machine: Machine{Cores: "2", CPU: "Test CPU", Load: "3.00 2.50 2.00", HAProxy: "HAProxy version 2.6.12", Go: "go1.26.8 linux/amd64",
			Wrk: "wrk 4.1.0", Kernel: "6.18.0", StateFS: "ext4", Files: "20000 (hard 20000)", Date: time.Date(2026, 11, 26, 15, 0, 0, 0, time.UTC)},
		Took:           7 * time.Minute,
		GoBenchCommand: "go test -bench ...",
		GoBench: []GoBench{
			{Op: "LoadDir", NsOp: rounds(86000, 90000, 88000), BytesOp: 51000, Allocs: 385},
			{Op: "Patch", Servers: 1024, NsOp: rounds(774000, 780000), BytesOp: 911314, Allocs: 1064},
		},
		Scaling: &ScalingResult{Small: 1024, Large: 65536, Reps: 64, NsPerServer: Rounds{
			SideSmall:   ten(700, 2),
			SideLarge:   ten(800, 2),
			SideSmallAA: ten(700, 2),
		}},
		Render: []RenderResult{
			{Servers: 5, Times: Rounds{SideRender: ten(18, 0.1), SideCheck: ten(50, 0.1), SideCheckAA: ten(50, 0.1)}},
			{Servers: 16384, Times: Rounds{SideRender: ten(39, 0.2), SideCheck: ten(400, 1), SideCheckAA: ten(398, 1)}},
		},
		Start: []StartResult{
			{Servers: 5,
				Spawn: Rounds{SideShim: ten(3.5, 0.01), SideDirect: ten(0.5, 0.01), SideDirectAA: ten(0.5, 0.01), SideFloor: ten(1.6, 0.01)},
				CPU:   Rounds{SideShim: ten(3, 0.01), SideDirect: ten(0.3, 0.01), SideDirectAA: ten(0.3, 0.01)},
				Check: Rounds{SideShimCheck: rounds(60, 61), SideDirect: rounds(0.5, 0.6)},
				Ready: ten(50, 1)},
			{Servers: 16384,
				Spawn: Rounds{SideShim: ten(40, 0.1), SideDirect: ten(0.5, 0.01), SideDirectAA: ten(0.5, 0.01)},
				Ready: ten(1000, 2)},
		},
		DataPlane: &DataPlaneResult{
			RPS:     Rounds{SideDPShim: ten(17000, 10), SideDPDirect: ten(17000, 10), SideDPDirectAA: rounds(16000, 16500, 17000, 17100, 17200, 17300, 17400, 17500, 18000, 18500)},
			PerCPU:  Rounds{SideDPShim: ten(20000, 1), SideDPDirect: ten(20000, 1), SideDPDirectAA: ten(20000, 1)},
			P99:     Rounds{SideDPShim: ten(9, 0.1), SideDPDirect: ten(9, 0.1), SideDPDirectAA: ten(9, 0.1)},
			Command: "wrk -t2 -c50 -d1000ms --latency",
		},
		Reload: &ReloadResult{Latency: rounds(355, 360), Requests: 50000, Failed: 0, Clients: 8, LauncherKiB: 12100},
		ShimRSS: []RSSResult{
			{Servers: 5, ShimKiB: rounds(5000, 5010, 5020), TrueKiB: 1400},
			{Servers: 16384, ShimKiB: rounds(14000, 14700, 14800), TrueKiB: 1400},
		},
		Errors: []string{"data plane: wrk said\nsomething"},
	}
}

func TestMarkdownGolden(t *testing.T) {
	var buf bytes.Buffer
	sampleResults().Markdown(&buf)
	got := buf.String()

	// The verdicts, read from the summary: the goals are applied as the
	// issue states them, and only where it states them.
	for _, line := range []string{
		"| patch engine ns/server, 65536 over 1024 servers | 1.141 [1.140, 1.142] | 1.140 to 1.142 | ±0.0% | 1.140 to 1.142 | <= 1.200 | PASS |",
		"| `serve-launch render` / `haproxy -c`, 5 servers | 0.366 [0.363, 0.369] | 0.361 to 0.370 | ±0.0% | 0.361 to 0.370 | - | (context) |",
		"| `serve-launch render` / `haproxy -c`, 16384 servers | 0.099 [0.098, 0.099] | 0.098 to 0.100 | ±0.5% | 0.098 to 0.100 | <= 0.100 | PASS |",
		"| shim's own cost per start, 5 servers | 3.00 ms [3.00 ms, 3.00 ms] | 3.00 ms to 3.00 ms | ±0.00 ms | 3.00 ms to 3.00 ms | <= 2.00 ms | **MISS** |",
		"| execfloor's own cost per start (Go, exec only), 5 servers | 1.10 ms [1.10 ms, 1.10 ms] | 1.10 ms to 1.10 ms | ±0.00 ms | 1.10 ms to 1.10 ms | <= 2.00 ms | PASS |",
		"| shim's cost beyond execfloor's per start, 5 servers | 1.90 ms [1.90 ms, 1.90 ms] | 1.90 ms to 1.90 ms | ±0.00 ms | 1.90 ms to 1.90 ms | - | (context) |",
		"| execfloor's own cost / haproxy's start to ready, 5 servers | 0.020 [0.019, 0.021] | 0.019 to 0.022 | ±0.000 | 0.019 to 0.022 | <= 0.050 | PASS |",
		"| shim's own CPU time per start, 5 servers | 2.70 ms [2.70 ms, 2.70 ms] | 2.70 ms to 2.70 ms | ±0.00 ms | 2.70 ms to 2.70 ms | - | (context) |",
		"| shim's own cost / haproxy's start to ready, 5 servers | 0.055 [0.053, 0.057] | 0.052 to 0.059 | ±0.000 | 0.052 to 0.059 | <= 0.050 | **MISS** |",
		"| shim's own cost / haproxy's start to ready, 16384 servers | 0.040 [0.040, 0.040] | 0.040 to 0.040 | ±0.000 | 0.040 to 0.040 | <= 0.050 | PASS |",
		"| throughput, shim / direct | 1.000 [1.000, 1.000] | 1.000 to 1.000 | ±5.4% | 0.949 to 1.054 | >= 0.990 | **NOISE** |",
		"| requests per CPU second, shim / direct | 1.000 [1.000, 1.000] | 1.000 to 1.000 | ±0.0% | 1.000 to 1.000 | >= 0.990 | PASS |",
		"| failed requests during 2 hot reloads (50000 requests) | 0 [0, 0] | 0 to 0 | - | 0 to 0 | <= 0 | PASS |",
		"| shim peak RSS, 16384 servers (worst of 3 runs) | 15.1 MB [14.7 MB, 15.1 MB] | 14.3 MB to 15.2 MB | - | 14.3 MB to 15.2 MB | <= 15.0 MB | **NOISE** |",
		"| launcher (`serve-launch run`) peak RSS, one run | 12.4 MB [12.4 MB, 12.4 MB] | 12.4 MB to 12.4 MB | - | 12.4 MB to 12.4 MB | <= 25.0 MB | PASS |",
		"| `make bench`'s measurements, wall time | 7m0s [7m0s, 7m0s] | 7m0s to 7m0s | - | 7m0s to 7m0s | <= 10m0s | PASS |",
		"- data plane: wrk said something",
	} {
		if !strings.Contains(got, line) {
			t.Errorf("the report lacks the line\n%s", line)
		}
	}

	assert.NotContains(t, got, "no Go program in the shim's place", "execfloor meets both start goals in the sample")

	testenv.Golden(t, filepath.Join("testdata", "report.md.golden"), []byte(got))
}

// TestFloorFinding: the report says that no Go shim can meet a start goal
// only when execfloor's own rows miss it, and names the goals it misses.
func TestFloorFinding(t *testing.T) {
	ten := func(base float64) []float64 {
		xs := make([]float64, 10)
		for i := range xs {
			xs[i] = base + 0.01*float64(i)
		}
		return xs
	}
	for _, tc := range []struct {
		name         string
		floor, ready float64 // execfloor's spawn to stamp and haproxy's start; direct's spawn is 0.5
		want         []string
		wantMissing  []string
	}{
		{name: "floor meets both", floor: 1.6, ready: 50, wantMissing: []string{"no Go program"}},
		{name: "floor misses the share only", floor: 2.2, ready: 30,
			want:        []string{"misses by itself\nthe 0.050 share of haproxy's start (it takes 0.057", "no Go program in the shim's place can meet that goal"},
			wantMissing: []string{"the 2.00 ms bound"}},
		{name: "floor misses both", floor: 7.5, ready: 50,
			want: []string{"misses by itself\nthe 2.00 ms bound (it costs 7.00 ms a start, 95% CI 7.00 ms to 7.00 ms) and the 0.050 share",
				"can meet those goals", "beyond execfloor's is 1.50 ms a start"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &Results{Start: []StartResult{{Servers: GoalStartMsServers,
				Spawn: Rounds{SideShim: ten(tc.floor + 1.5), SideDirect: ten(0.5), SideDirectAA: ten(0.5), SideFloor: ten(tc.floor)},
				Ready: ten(tc.ready)}}}
			var buf bytes.Buffer
			r.floorFinding(func(format string, a ...any) { fmt.Fprintf(&buf, format, a...) })
			for _, w := range tc.want {
				assert.Contains(t, buf.String(), w)
			}
			for _, w := range tc.wantMissing {
				assert.NotContains(t, buf.String(), w)
			}
		})
	}
}
