package bench

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/serve-launch/serve-launch/internal/admin"
)

// ReloadResult is what hot reloads under load did.
type ReloadResult struct {
	// Latency is, per reload, the time from writing a snippet to `show info`
	// showing the new setting (milliseconds).
	Latency []float64
	// Requests and Failed count the load generator's requests during the
	// whole run; FirstErrors keeps a few failures verbatim.
	Requests, Failed int64
	FirstErrors      []string
	Clients          int
	// LauncherKiB is the launcher's peak RSS (VmHWM) after the reloads.
	LauncherKiB int
}

// HotReload runs `serve-launch run -- raysim` (one app, two replicas) on a
// copy of overrides.d, keeps clients requests busy through haproxy, and
// changes the rate-limit snippet reloads times, each time timing how long
// until `show info` reports the new ConnRateLimit.
func (t *Tools) HotReload(ctx context.Context, reloads, clients int) (res ReloadResult, err error) {
	res.Clients = clients
	dir := filepath.Join(t.Work, "reload")
	ov := filepath.Join(dir, "overrides.d")
	if err := os.MkdirAll(ov, 0o755); err != nil {
		return res, err
	}
	entries, err := os.ReadDir(t.Overrides)
	if err != nil {
		return res, err
	}
	const rateFile = "10-rate-limits.toml"
	var rate string
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(t.Overrides, e.Name()))
		if err != nil {
			return res, err
		}
		if e.Name() == rateFile {
			rate = string(data)
		}
		if err := os.WriteFile(filepath.Join(ov, e.Name()), data, 0o644); err != nil {
			return res, err
		}
	}
	if !strings.Contains(rate, "mul .Servers 512") {
		return res, fmt.Errorf("%s/%s no longer says `mul .Servers 512`; the reload benchmark edits that", t.Overrides, rateFile)
	}
	var ports [3]int
	for i := range ports {
		if ports[i], err = FreePort(); err != nil {
			return res, err
		}
	}
	ray := filepath.Join(dir, "ray")
	o := ConfigOptions{Dir: ray, MetricsPort: ports[2]}
	env := os.Environ()
	for k, v := range Env(o) {
		env = append(env, k+"="+v)
	}
	logPath := filepath.Join(dir, "launcher.log")
	logf, err := os.Create(logPath)
	if err != nil {
		return res, err
	}
	defer logf.Close()
	argv := []string{t.ServeLaunch, "run", "--overrides", ov, "--state-dir", filepath.Join(dir, "state"),
		"--haproxy", t.HAProxy, "--grace-period", "3s", "--",
		t.RaySim, "-apps", "1", "-replicas", "2",
		"-http-port", strconv.Itoa(ports[0]), "-stats-port", strconv.Itoa(ports[1])}
	g, err := Spawn(argv, env, logf)
	if err != nil {
		return res, err
	}
	defer func() {
		// SIGTERM lets the launcher stop raysim and every haproxy; the
		// group kill is only a backstop.
		_ = syscall.Kill(g.Cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-g.Exited:
		case <-time.After(8 * time.Second):
		}
		// A launcher, raysim or haproxy still alive would load the machine
		// under the sections measured after this one.
		if kerr := g.Kill(); kerr != nil && err == nil {
			err = fmt.Errorf("stopping the launcher: %v", kerr)
		}
	}()
	socket := Env(o)["RAY_SERVE_HAPROXY_SOCKET_PATH"]
	if err := waitLog(ctx, logPath, "raysim: ready", g.Exited, 30*time.Second); err != nil {
		return res, err
	}
	if err := waitRate(ctx, socket, "1024", 10*time.Second); err != nil {
		return res, err
	}

	url := fmt.Sprintf("http://127.0.0.1:%d/app1/predict", ports[0])
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var total, failed atomic.Int64
	var mu sync.Mutex
	for i := 0; i < clients; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
			for {
				select {
				case <-stop:
					return
				default:
				}
				total.Add(1)
				resp, err := c.Get(url)
				if err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK {
						err = fmt.Errorf("status %s", resp.Status)
					}
				}
				if err != nil {
					failed.Add(1)
					mu.Lock()
					if len(res.FirstErrors) < 5 {
						res.FirstErrors = append(res.FirstErrors, err.Error())
					}
					mu.Unlock()
				}
			}
		}()
	}
	stopLoad := func() {
		close(stop)
		wg.Wait()
		res.Requests, res.Failed = total.Load(), failed.Load()
	}
	// The load runs a moment before the first change, so reloads happen
	// with connections established and requests in flight.
	time.Sleep(500 * time.Millisecond)
	for k := 1; k <= reloads; k++ {
		per := 512 + k
		data := strings.ReplaceAll(rate, "mul .Servers 512", fmt.Sprintf("mul .Servers %d", per))
		start := time.Now()
		// Written beside, then renamed in: a file rewritten in place can be
		// seen empty by the watcher, a reload of its own in the interval.
		tmp := filepath.Join(dir, rateFile+".tmp")
		if err := os.WriteFile(tmp, []byte(data), 0o644); err != nil {
			stopLoad()
			return res, err
		}
		if err := os.Rename(tmp, filepath.Join(ov, rateFile)); err != nil {
			stopLoad()
			return res, err
		}
		if err := waitRate(ctx, socket, strconv.Itoa(2*per), 10*time.Second); err != nil {
			stopLoad()
			return res, fmt.Errorf("reload %d: %v (see %s)", k, err, logPath)
		}
		res.Latency = append(res.Latency, Millis(time.Since(start)))
		time.Sleep(300 * time.Millisecond)
	}
	stopLoad()
	if res.LauncherKiB, err = VmHWM(g.Cmd.Process.Pid); err != nil {
		return res, err
	}
	return res, nil
}

// waitRate polls `show info` every 2 ms until ConnRateLimit is want.
func waitRate(ctx context.Context, socket, want string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	last := "no answer"
	for time.Now().Before(deadline) {
		if err := ctx.Err(); err != nil {
			return err
		}
		actx, cancel := context.WithTimeout(ctx, time.Second)
		info, err := admin.ShowInfo(actx, socket)
		cancel()
		if err == nil {
			if info["ConnRateLimit"] == want {
				return nil
			}
			last = "ConnRateLimit " + info["ConnRateLimit"]
		} else {
			last = err.Error()
		}
		time.Sleep(2 * time.Millisecond)
	}
	return fmt.Errorf("show info on %s: want ConnRateLimit %s within %s, last: %s", socket, want, limit, last)
}

// waitLog waits until the file at path contains s.
func waitLog(ctx context.Context, path, s string, exited <-chan struct{}, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		data, _ := os.ReadFile(path)
		if strings.Contains(string(data), s) {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-exited:
			return fmt.Errorf("the launcher exited before %q:\n%s", s, data)
		case <-time.After(20 * time.Millisecond):
		}
	}
	data, _ := os.ReadFile(path)
	return fmt.Errorf("no %q in %s within %s:\n%s", s, path, limit, data)
}
