package bench

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/serve-launch/serve-launch/internal/raycfg"
	"github.com/serve-launch/serve-launch/internal/testing/raysim"
)

// WrkResult is one wrk run.
type WrkResult struct {
	RPS   float64
	P99ms float64
	// Requests is how many requests the run completed.
	Requests int64
	// Errors counts socket errors and non-2xx/3xx answers.
	Errors int
}

var (
	wrkRPS    = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)
	wrkP99    = regexp.MustCompile(`\n\s+99%\s+([0-9.]+)(us|ms|s)\b`)
	wrkTotal  = regexp.MustCompile(`(\d+) requests in `)
	wrkNon2xx = regexp.MustCompile(`Non-2xx or 3xx responses:\s+(\d+)`)
	wrkSocket = regexp.MustCompile(`Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)`)
)

// ParseWrk reads the requests per second, the 99th percentile latency and
// the error counts from wrk --latency output.
func ParseWrk(out string) (WrkResult, error) {
	var r WrkResult
	m := wrkRPS.FindStringSubmatch(out)
	if m == nil {
		return r, fmt.Errorf("no Requests/sec in wrk output:\n%s", out)
	}
	r.RPS, _ = strconv.ParseFloat(m[1], 64)
	m = wrkP99.FindStringSubmatch(out)
	if m == nil {
		return r, fmt.Errorf("no 99%% latency in wrk output:\n%s", out)
	}
	v, _ := strconv.ParseFloat(m[1], 64)
	switch m[2] {
	case "us":
		v /= 1000
	case "s":
		v *= 1000
	}
	r.P99ms = v
	if m := wrkTotal.FindStringSubmatch(out); m != nil {
		r.Requests, _ = strconv.ParseInt(m[1], 10, 64)
	}
	if m := wrkNon2xx.FindStringSubmatch(out); m != nil {
		n, _ := strconv.Atoi(m[1])
		r.Errors += n
	}
	if m := wrkSocket.FindStringSubmatch(out); m != nil {
		for _, s := range m[1:] {
			n, _ := strconv.Atoi(s)
			r.Errors += n
		}
	}
	return r, nil
}

// The sides of the data plane measurement.
const (
	SideDPShim     = "shim"
	SideDPDirect   = "direct"
	SideDPDirectAA = "direct again"
)

// DataPlaneResult compares haproxy started through the shim with haproxy
// started directly on the same patched file, and directly again (the A/A
// side), under wrk. Per side and round: RPS is requests per second, P99
// the 99th percentile latency in ms, and PerCPU the requests served per
// CPU second of haproxy's processes (master and workers, every thread,
// from /proc's schedstat), which the machine's other load moves less than
// throughput.
type DataPlaneResult struct {
	RPS, P99, PerCPU Rounds
	// Errors is the sum over every run of every side.
	Errors int
	// Command is the wrk command line (URL left out).
	Command string
}

// Throughput is shim over direct requests per second per round, and the
// A/A ratio.
func (d DataPlaneResult) Throughput() (ratio, aa []float64) {
	return Ratios(d.RPS[SideDPShim], d.RPS[SideDPDirect]), Ratios(d.RPS[SideDPDirectAA], d.RPS[SideDPDirect])
}

// Efficiency is shim over direct requests per CPU second per round, and
// the A/A ratio.
func (d DataPlaneResult) Efficiency() (ratio, aa []float64) {
	return Ratios(d.PerCPU[SideDPShim], d.PerCPU[SideDPDirect]), Ratios(d.PerCPU[SideDPDirectAA], d.PerCPU[SideDPDirect])
}

// DataPlane starts two emulated replicas (raysim.Replica, plain Go HTTP
// servers) and, rounds times in rotating order, haproxy through the shim,
// directly and directly again in front of them, each loaded with wrk for
// d (with [GoLoad] when wrk is ""). Both ways run the same haproxy binary
// with the same argv, file, environment and limits: after its exec the
// shim's process is haproxy.
func (t *Tools) DataPlane(ctx context.Context, wrk string, rounds int, d time.Duration) (DataPlaneResult, error) {
	res := DataPlaneResult{RPS: Rounds{}, P99: Rounds{}, PerCPU: Rounds{}}
	var backends []raycfg.Target
	for i := 0; i < 2; i++ {
		r, err := raysim.StartReplica(fmt.Sprintf("SERVE_REPLICA::app1#Model#bench%d", i), 0)
		if err != nil {
			return res, err
		}
		defer r.Close()
		backends = append(backends, r.Target())
	}
	in, err := t.newInstance("dataplane", 2, backends)
	if err != nil {
		return res, err
	}
	stateDir := in.dir + "/state"
	env := t.ShimEnv(stateDir, t.HAProxy)
	if err := t.preparePatched(ctx, in, stateDir, env); err != nil {
		return res, err
	}
	argv := map[string][]string{
		SideDPShim:     {t.Shim, "-db", "-f", in.cfg, "-dR"},
		SideDPDirect:   {t.HAProxy, "-W", "-db", "-f", in.patched, "-dR"},
		SideDPDirectAA: {t.HAProxy, "-W", "-db", "-f", in.patched, "-dR"},
	}
	url := fmt.Sprintf("http://127.0.0.1:%d/app1/predict", in.httpPort)
	// wrk takes whole seconds.
	secs := func(d time.Duration) string { return fmt.Sprintf("-d%ds", max(1, int(d.Round(time.Second).Seconds()))) }
	args := []string{"-t2", "-c50", secs(d), "--latency"}
	res.Command = "wrk " + strings.Join(args, " ")
	if wrk == "" {
		res.Command = fmt.Sprintf("Go load generator (wrk not found): 50 keep-alive clients for %s", d)
	}
	load := func(side string, d time.Duration) (_ WrkResult, cpu float64, err error) {
		g, err := in.spawn(argv[side], env)
		if err != nil {
			return WrkResult{}, 0, err
		}
		// The next run waits for the ports, but nothing would notice an
		// haproxy left by the last one.
		defer func() {
			if kerr := g.Kill(); kerr != nil && err == nil {
				err = kerr
			}
		}()
		if _, err := WaitShowInfo(ctx, in.socket, g.Start, g.Exited); err != nil {
			return WrkResult{}, 0, fmt.Errorf("%s: %v; %s", side, err, in.logTail())
		}
		if err := getOK(url); err != nil {
			return WrkResult{}, 0, err
		}
		before := GroupCPU(g.Cmd.Process.Pid)
		var r WrkResult
		if wrk == "" {
			r = GoLoad(url, 50, d)
		} else {
			a := append(slices.Clone(args), url)
			a[2] = secs(d)
			out, err := exec.CommandContext(ctx, wrk, a...).CombinedOutput()
			if err != nil {
				return WrkResult{}, 0, fmt.Errorf("wrk: %v: %s", err, out)
			}
			if r, err = ParseWrk(string(out)); err != nil {
				return r, 0, err
			}
		}
		return r, float64(GroupCPU(g.Cmd.Process.Pid)-before) / 1e9, nil
	}
	if _, _, err := load(SideDPDirect, time.Second); err != nil { // warm-up
		return res, err
	}
	sides := []string{SideDPShim, SideDPDirect, SideDPDirectAA}
	for i := range rounds {
		for _, k := range Order(i, len(sides)) {
			side := sides[k]
			r, cpu, err := load(side, d)
			if err != nil {
				return res, err
			}
			res.Errors += r.Errors
			res.RPS[side] = append(res.RPS[side], r.RPS)
			res.P99[side] = append(res.P99[side], r.P99ms)
			perCPU := 0.0
			if cpu > 0 {
				perCPU = float64(r.Requests) / cpu
			}
			res.PerCPU[side] = append(res.PerCPU[side], perCPU)
		}
	}
	return res, nil
}

// GroupCPU is the CPU time, in ns, that the processes of process group
// pgid have run so far: the sum over their threads of /proc's schedstat.
func GroupCPU(pgid int) int64 {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0
	}
	var total int64
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		if _, pgrp := procStat("/proc/" + e.Name() + "/stat"); pgrp != pgid {
			continue
		}
		tasks, _ := os.ReadDir("/proc/" + e.Name() + "/task")
		for _, t := range tasks {
			data, err := os.ReadFile("/proc/" + e.Name() + "/task/" + t.Name() + "/schedstat")
			if err != nil {
				continue
			}
			total += ParseSchedstat(string(data))
		}
	}
	return total
}

// ParseSchedstat reads the time on CPU, in ns, from a schedstat line
// ("RUN WAIT SLICES").
func ParseSchedstat(s string) int64 {
	f := strings.Fields(s)
	if len(f) == 0 {
		return 0
	}
	n, _ := strconv.ParseInt(f[0], 10, 64)
	return n
}

// getOK checks that url answers 200 through haproxy before load starts.
func getOK(url string) error {
	c := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(5 * time.Second)
	var last error
	for time.Now().Before(deadline) {
		resp, err := c.Get(url)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("status %s", resp.Status)
		}
		last = err
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("GET %s: %v", url, last)
}
