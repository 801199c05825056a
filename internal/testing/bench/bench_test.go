package bench

import (
	"bytes"
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

func TestMedian(t *testing.T) {
	tests := []struct {
		in   []float64
		want float64
	}{
		{nil, 0},
		{[]float64{3}, 3},
		{[]float64{3, 1, 2}, 2},
		{[]float64{4, 1, 3, 2}, 2.5},
		{[]float64{5, 5, 1, 9, 5}, 5},
	}
	for _, tt := range tests {
		in := slices.Clone(tt.in)
		assert.Equal(t, tt.want, Median(in), "Median(%v)", tt.in)
		assert.Equal(t, tt.in, in, "Median must not reorder its input")
	}
}

func TestSampleRatios(t *testing.T) {
	tests := []struct {
		name                string
		s                   Sample
		ratio, minRat, pair float64
	}{
		{
			name:  "ours twice base",
			s:     Sample{Ours: []float64{2, 4, 6}, Base: []float64{1, 2, 4}},
			ratio: 2, minRat: 2, pair: 2, // per pair: 2, 2, 1.5
		},
		{
			// A slow streak on one run moves the ratio of medians less
			// than it moves the mean, and the per-pair ratio cancels it.
			name:  "one slow pair",
			s:     Sample{Ours: []float64{10, 10, 30}, Base: []float64{10, 10, 30}},
			ratio: 1, minRat: 1, pair: 1,
		},
		{name: "empty", s: Sample{}, ratio: 0, minRat: 0, pair: 0},
		{name: "zero base", s: Sample{Ours: []float64{1}, Base: []float64{0}}, ratio: 0, minRat: 0, pair: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.InDelta(t, tt.ratio, tt.s.Ratio(), 1e-9, "Ratio")
			assert.InDelta(t, tt.minRat, tt.s.MinRatio(), 1e-9, "MinRatio")
			assert.InDelta(t, tt.pair, tt.s.PairRatio(), 1e-9, "PairRatio")
		})
	}
}

func TestSidesAlternate(t *testing.T) {
	assert.Equal(t, [2]bool{true, false}, sides(0))
	assert.Equal(t, [2]bool{false, true}, sides(1))
	assert.Equal(t, sides(0), sides(2))
	var s Sample
	for i := range 3 {
		for j, ours := range sides(i) {
			s.add(ours, float64(10*i+j))
		}
	}
	assert.Equal(t, []float64{0, 11, 20}, s.Ours)
	assert.Equal(t, []float64{1, 10, 21}, s.Base)
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
		{name: "errors counted", out: wrkOut, want: WrkResult{RPS: 33441.51, P99ms: 6.36, Errors: 11}},
		{
			name: "microseconds, no errors",
			out:  strings.NewReplacer("     99%    6.36ms", "     99%  850.00us", "  Socket errors: connect 1, read 3, write 0, timeout 2\n", "", "  Non-2xx or 3xx responses: 5\n", "").Replace(wrkOut),
			want: WrkResult{RPS: 33441.51, P99ms: 0.85},
		},
		{
			name: "seconds",
			out:  strings.Replace(wrkOut, "     99%    6.36ms", "     99%    1.20s", 1),
			want: WrkResult{RPS: 33441.51, P99ms: 1200, Errors: 11},
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
		{Op: "LoadDir", Servers: 0, NsOp: 85975, BytesOp: 50979, Allocs: 385},
		{Op: "Parse", Servers: 5, NsOp: 13593, BytesOp: 33512, Allocs: 47},
		{Op: "Parse", Servers: 1024, NsOp: 384861, BytesOp: 595442, Allocs: 511},
		{Op: "Apply", Servers: 64, NsOp: 36510, BytesOp: 27505, Allocs: 121},
		{Op: "Patch", Servers: 5, NsOp: 41582, BytesOp: 56309, Allocs: 147},
	}
	assert.Equal(t, want, parseGoBench(out))
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

func TestDerivedStartUsesOwnTimeOfTheSameRounds(t *testing.T) {
	r := Results{
		Start: []SizeSample{
			{Servers: 5, Sample: Sample{Ours: []float64{50, 50, 50}, Base: []float64{40, 40, 40}}},
			{Servers: 64, Sample: Sample{Ours: []float64{50}, Base: []float64{50}}},
		},
		StartOwn:      []SizeSample{{Servers: 5, Sample: Sample{Ours: []float64{3, 3.5, 2.5}, Base: []float64{1, 1, 1}}}},
		StartFloorOwn: []SizeSample{{Servers: 5, Sample: Sample{Ours: []float64{1.8, 2, 2.2}, Base: []float64{1, 1, 1}}}},
		// The back-to-back own time under Memory must not be used.
		ShimRSS: []RSSResult{{Servers: 5, ShimMs: 0.5}, {Servers: 64, ShimMs: 0.5}},
	}
	ds := r.derivedStart()
	require.Len(t, ds, 1, "a size without own-time runs has no derived ratio")
	assert.Equal(t, 5, ds[0].servers)
	assert.InDelta(t, 2.0, ds[0].own, 1e-9)
	assert.InDelta(t, 40.0, ds[0].direct, 1e-9)
	assert.InDelta(t, 1.05, ds[0].ratio, 1e-9)
	require.True(t, ds[0].hasFloor)
	assert.InDelta(t, 1.0, ds[0].floorOwn, 1e-9)
	assert.InDelta(t, 42.0/41.0, ds[0].overFloor, 1e-9)

	r.StartFloorOwn = nil
	assert.False(t, r.derivedStart()[0].hasFloor, "no floor runs, no ratio over the floor")
}

// sampleResults is a run with every section, its numbers chosen so that some
// goals pass and some miss.
func sampleResults() *Results {
	runs := func(xs ...float64) []float64 { return xs }
	return &Results{
		Command: "make bench",
		Machine: Machine{Cores: "2", CPU: "Test CPU", HAProxy: "HAProxy version 2.6.12", Go: "go1.26.8 linux/amd64",
			Wrk: "wrk 4.1.0", Kernel: "6.18.0", StateFS: "ext4", Date: time.Date(2026, 11, 26, 15, 0, 0, 0, time.UTC)},
		Took:           150 * time.Second,
		Runs:           3,
		GoBenchCommand: "go test -bench ...",
		GoBench: []GoBench{
			{Op: "LoadDir", NsOp: 86000, BytesOp: 51000, Allocs: 385},
			{Op: "Patch", Servers: 1024, NsOp: 774000, BytesOp: 911314, Allocs: 1064},
			{Op: "Patch", Servers: 4096, NsOp: 3194000, BytesOp: 3507430, Allocs: 3809},
		},
		Render: []SizeSample{
			{Servers: 5, Sample: Sample{Ours: runs(2.7, 2.8, 2.6), Base: runs(33, 34, 32)}},
			{Servers: 4096, Sample: Sample{Ours: runs(7, 7, 7), Base: runs(66, 66, 66)}},
		},
		Start: []SizeSample{
			{Servers: 5, Sample: Sample{Ours: runs(40, 41, 42), Base: runs(39, 40, 41)}},
			{Servers: 64, Sample: Sample{Ours: runs(44, 44, 44), Base: runs(40, 40, 40)}},
		},
		StartFloor: []SizeSample{
			{Servers: 5, Sample: Sample{Ours: runs(40, 40, 40), Base: runs(39, 40, 41)}},
			{Servers: 64, Sample: Sample{Ours: runs(41, 41, 41), Base: runs(40, 40, 40)}},
		},
		StartOwn: []SizeSample{
			{Servers: 5, Sample: Sample{Ours: runs(3.4, 3.5, 3.6), Base: runs(0.6, 0.7, 0.8)}},
			{Servers: 64, Sample: Sample{Ours: runs(3.9, 4.0, 4.1), Base: runs(0.6, 0.7, 0.8)}},
		},
		// 64 servers has no floor runs: its ratio over the floor is left out.
		StartFloorOwn: []SizeSample{
			{Servers: 5, Sample: Sample{Ours: runs(1.8, 1.9, 2.0), Base: runs(0.6, 0.7, 0.8)}},
		},
		DataPlane: &DataPlaneResult{
			RPS:     Sample{Ours: runs(33000, 34000), Base: runs(33500, 33600)},
			P99:     Sample{Ours: runs(9, 9.2), Base: runs(8.8, 8.6)},
			Command: "wrk -t2 -c50 -d2s --latency",
		},
		DataPlaneRuns: 2,
		Reload: &ReloadResult{Latency: runs(355, 360), Requests: 50000, Failed: 0, Clients: 8,
			LauncherKiB: 12100},
		ShimRSS: []RSSResult{{Servers: 5, ShimKiB: 6300, TrueKiB: 1400, ShimMs: 2.0}, {Servers: 64, ShimKiB: 15000, TrueKiB: 1400, ShimMs: 2.1}},
		Errors:  []string{"data plane: wrk said\nsomething"},
	}
}

func TestMarkdownGolden(t *testing.T) {
	var buf bytes.Buffer
	sampleResults().Markdown(&buf)
	got := buf.String()

	// The verdicts, read from the summary: the goals are applied as the
	// issue states them.
	for _, line := range []string{
		"| `serve-launch render` / `haproxy -c`, 5 servers | 0.082 | <= 0.10 | PASS |",
		"| `serve-launch render` / `haproxy -c`, 4096 servers | 0.106 | <= 0.10 | **MISS** |",
		"| start to `show info`, shim / direct, 5 servers | 1.025 | <= 1.05 | PASS |",
		"| start to `show info`, shim / direct, 64 servers | 1.100 | <= 1.05 | **MISS** |",
		"| start to `show info`, derived: (direct median + shim's own time) / direct median, 5 servers | 1.070 | (no goal) | |",
		"| start to `show info`, derived over the floor: (direct + shim's own time) / (direct + floor's own time), 5 servers | 1.039 | (no goal) | |",
		"| 64 | 3.30 | - | 40.0 | 1.083 | - | 3.9 4.0 4.1 |  | 0.6 0.7 0.8 |",
		"| throughput, shim / direct (median of per-pair ratios: 0.998) | 0.999 | >= 0.99 | PASS |",
		"| failed requests during 2 hot reloads (50000 requests) | 0 | 0 | PASS |",
		"| shim peak RSS before exec, 64 servers | 15.4 MB (14.6 MiB) | <= 15 MB | **MISS** |",
		"| launcher (`serve-launch run`) peak RSS | 12.4 MB (11.8 MiB) | <= 25 MB | PASS |",
		"- data plane: wrk said something",
	} {
		if !strings.Contains(got, line) {
			t.Errorf("the report lacks the line\n%s", line)
		}
	}

	testenv.Golden(t, filepath.Join("testdata", "report.md.golden"), []byte(got))
}
