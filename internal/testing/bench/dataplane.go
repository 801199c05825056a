package bench

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"regexp"
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
	// Errors counts socket errors and non-2xx/3xx answers.
	Errors int
}

var (
	wrkRPS    = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)
	wrkP99    = regexp.MustCompile(`\n\s+99%\s+([0-9.]+)(us|ms|s)\b`)
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

// DataPlaneResult compares haproxy started through the shim with haproxy
// started directly on the same patched file, under wrk.
type DataPlaneResult struct {
	RPS, P99 Sample
	// Errors is the sum over every run of both sides.
	Errors int
	// Command is the wrk command line (URL left out).
	Command string
}

// DataPlane starts two emulated replicas (raysim.Replica, plain Go HTTP
// servers) and, runs times alternately, haproxy through the shim and
// directly in front of them, loading each with wrk for d (with [GoLoad] when
// wrk is "").
func (t *Tools) DataPlane(ctx context.Context, wrk string, runs int, d time.Duration) (DataPlaneResult, error) {
	var res DataPlaneResult
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
	state := in.dir + "/state"
	if err := t.preparePatched(ctx, in, state); err != nil {
		return res, err
	}
	url := fmt.Sprintf("http://127.0.0.1:%d/app1/predict", in.httpPort)
	args := []string{"-t2", "-c50", fmt.Sprintf("-d%ds", int(d.Seconds())), "--latency"}
	res.Command = "wrk " + strings.Join(args, " ")
	if wrk == "" {
		res.Command = fmt.Sprintf("Go load generator (wrk not found): 50 keep-alive clients for %s", d)
	}
	load := func(ours, warm bool) (_ WrkResult, err error) {
		side := sideDirect
		if ours {
			side = sideShim
		}
		g, _, err := t.startSide(ctx, in, state, side)
		if err != nil {
			return WrkResult{}, err
		}
		// The next run waits for the ports, but nothing would notice an
		// haproxy left by the last one.
		defer func() {
			if kerr := g.Kill(); kerr != nil && err == nil {
				err = kerr
			}
		}()
		if err := getOK(url); err != nil {
			return WrkResult{}, err
		}
		if wrk == "" {
			if warm {
				return GoLoad(url, 50, time.Second), nil
			}
			return GoLoad(url, 50, d), nil
		}
		a := args
		if warm {
			a = []string{"-t2", "-c50", "-d1s", "--latency"}
		}
		out, err := exec.CommandContext(ctx, wrk, append(a, url)...).CombinedOutput()
		if err != nil {
			return WrkResult{}, fmt.Errorf("wrk: %v: %s", err, out)
		}
		return ParseWrk(string(out))
	}
	if _, err := load(false, true); err != nil {
		return res, err
	}
	for i := 0; i < runs; i++ {
		for _, ours := range sides(i) {
			r, err := load(ours, false)
			if err != nil {
				return res, err
			}
			res.Errors += r.Errors
			res.RPS.add(ours, r.RPS)
			res.P99.add(ours, r.P99ms)
		}
	}
	return res, nil
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
