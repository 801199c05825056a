// Package e2e runs serve-launch end to end: `serve-launch run -- raysim ...`
// with the real haproxy, real loopback traffic and the repository's
// overrides.d. raysim emulates Ray Serve's haproxy process contract; nothing
// here is a Ray result.
//
// TestMain builds serve-launch and raysim once per package run into a
// temporary directory; every scenario starts its own launcher with free
// ports, temporary directories, RAY_SERVE_HAPROXY_MAXCONN=2000 and a private
// copy of overrides.d, and kills everything it started in t.Cleanup (all
// through internal/testenv).
package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/serve-launch/serve-launch/internal/admin"
	"github.com/serve-launch/serve-launch/internal/testing/raysim"
	"github.com/serve-launch/serve-launch/internal/testing/testenv"
	"github.com/stretchr/testify/require"
)

// bins are the serve-launch and raysim binaries built by TestMain.
var bins testenv.Binaries

func TestMain(m *testing.M) {
	os.Exit(testenv.MainWithBinaries(m, "e2e", &bins))
}

// opts describes one `serve-launch run -- raysim ...`.
type opts struct {
	apps, replicas int
	// launcher are extra flags for `serve-launch run` (before "--").
	launcher []string
	// raysim are extra flags for raysim.
	raysim []string
	// overrides, when set, edits the private copy of overrides.d before start.
	overrides func(t *testing.T, dir string)
	// env is added to the launcher's environment.
	env []string
	// direct runs raysim without the launcher, on the real haproxy (a
	// baseline: what Ray alone does).
	direct bool
	// ready is the stderr line to wait for (default: raysim's ready line).
	ready string
}

// run is one launcher with its emulated Ray under test.
type run struct {
	*testenv.Launched
}

// start runs `serve-launch run -- raysim ...` and waits, bounded, for the
// ready line on the launcher's stderr (raysim writes through it). E2E_VERBOSE
// set logs the launcher's output even when the test passes.
func start(t *testing.T, o opts) *run {
	t.Helper()
	l := testenv.Launch{
		Apps: o.apps, Replicas: o.replicas,
		LauncherFlags: o.launcher, RaysimFlags: o.raysim,
		Env: o.env, Direct: o.direct, Ready: o.ready,
		LogOutput: os.Getenv("E2E_VERBOSE") != "",
	}
	if o.overrides != nil {
		l.Overrides = func(dir string) { o.overrides(t, dir) }
	}
	return &run{testenv.Start(t, bins, l)}
}

func (r *run) url(path string) string {
	return fmt.Sprintf("http://127.0.0.1:%d%s", r.HTTPPort, path)
}

func (r *run) ports() []int { return []int{r.HTTPPort, r.StatsPort, r.MetricsPort} }

// status reads raysim's status file.
func (r *run) status(t *testing.T) raysim.Status {
	t.Helper()
	b, err := os.ReadFile(r.StatusFile)
	require.NoError(t, err)
	var st raysim.Status
	require.NoError(t, json.Unmarshal(b, &st))
	return st
}

// appServers returns the `show stat` rows of the servers of Ray's
// application backends (http-*), keyed by "backend/server", and fails the
// test when haproxy does not answer. Polls after a reload use
// tryAppServers.
func (r *run) appServers(t *testing.T) map[string]map[string]string {
	t.Helper()
	out, err := r.tryAppServers()
	require.NoError(t, err)
	return out
}

// slimMismatches lists the servers of rows (appServers' shape) whose slim
// is not want, as "backend/server slim N", sorted; empty when all match.
func slimMismatches(rows map[string]map[string]string, want string) []string {
	var bad []string
	for name, row := range rows {
		if row["slim"] != want {
			bad = append(bad, name+" slim "+row["slim"])
		}
	}
	sort.Strings(bad)
	return bad
}

// tryAppServers is appServers returning haproxy's failure to answer (within
// adminTimeout) instead of failing the test: while old processes drain
// after a reload on a loaded machine an answer may be slow, and a poll
// takes that as one more try.
func (r *run) tryAppServers() (map[string]map[string]string, error) {
	c, cancel := context.WithTimeout(context.Background(), adminTimeout)
	defer cancel()
	rows, err := admin.ShowStat(c, r.Socket)
	if err != nil {
		return nil, fmt.Errorf("show stat: %w", err)
	}
	out := map[string]map[string]string{}
	for _, row := range rows {
		if strings.HasPrefix(row["pxname"], "http-") && row["svname"] != "BACKEND" && row["svname"] != "FRONTEND" {
			out[row["pxname"]+"/"+row["svname"]] = row
		}
	}
	return out, nil
}

// info returns `show info` and fails the test when haproxy does not answer;
// polls after a reload use tryInfo.
func (r *run) info(t *testing.T) map[string]string {
	t.Helper()
	info, err := r.tryInfo()
	require.NoError(t, err)
	return info
}

// tryInfo is info returning haproxy's failure to answer (see tryAppServers).
func (r *run) tryInfo() (map[string]string, error) {
	c, cancel := context.WithTimeout(context.Background(), adminTimeout)
	defer cancel()
	info, err := admin.ShowInfo(c, r.Socket)
	if err != nil {
		return nil, fmt.Errorf("show info: %w", err)
	}
	return info, nil
}

// adminTimeout bounds one admin socket command.
const adminTimeout = 5 * time.Second

// masterOf returns the master of the worker that answered info (with -W,
// `show info` names the worker). The worker may be an old one that exited
// right after answering: the error says so, and a poll asks again.
func masterOf(info map[string]string) (int, error) {
	pid, err := strconv.Atoi(info["Pid"])
	if err != nil {
		return 0, fmt.Errorf("show info Pid %q: %w", info["Pid"], err)
	}
	master, err := testenv.ParentOf(pid)
	if err != nil {
		return 0, fmt.Errorf("worker %d that answered show info: %w", pid, err)
	}
	return master, nil
}

// replicaStats asks one replica's control endpoint directly.
func replicaStats(t *testing.T, addr string) raysim.ReplicaStats {
	t.Helper()
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get("http://" + addr + "/-/raysim/stats")
	require.NoError(t, err)
	defer resp.Body.Close()
	var st raysim.ReplicaStats
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&st))
	return st
}

// writeAtomic replaces a file by rename, as editors and ConfigMaps do.
func writeAtomic(t *testing.T, path, content string) {
	t.Helper()
	testenv.WriteAtomic(t, path, content, 0o644)
}

// load is a bounded set of Go HTTP clients hammering some URLs.
type load struct {
	ok, fail atomic.Int64
	mu       sync.Mutex
	errs     []string
	cancel   context.CancelFunc
	wg       sync.WaitGroup
}

// startLoad runs workers clients, each looping over urls until stop, the
// duration bound or the request bound (per worker) is reached. Any error or
// non-200 answer is a failure.
func startLoad(t *testing.T, urls []string, workers int, maxDur time.Duration, maxPerWorker int) *load {
	t.Helper()
	c, cancel := context.WithTimeout(context.Background(), maxDur)
	l := &load{cancel: cancel}
	tr := &http.Transport{MaxIdleConnsPerHost: workers, MaxConnsPerHost: workers, IdleConnTimeout: 30 * time.Second}
	client := &http.Client{Transport: tr, Timeout: 15 * time.Second}
	for w := 0; w < workers; w++ {
		l.wg.Add(1)
		go func(w int) {
			defer l.wg.Done()
			for i := 0; i < maxPerWorker && c.Err() == nil; i++ {
				u := urls[(w+i)%len(urls)]
				req, _ := http.NewRequest(http.MethodGet, u, nil)
				resp, err := client.Do(req)
				if err != nil {
					l.failed(err.Error())
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					l.failed(fmt.Sprintf("%s: status %d", u, resp.StatusCode))
					continue
				}
				l.ok.Add(1)
			}
		}(w)
	}
	t.Cleanup(func() { l.stop(); tr.CloseIdleConnections() })
	return l
}

func (l *load) failed(msg string) {
	l.fail.Add(1)
	l.mu.Lock()
	if len(l.errs) < 10 {
		l.errs = append(l.errs, msg)
	}
	l.mu.Unlock()
}

// stop ends the load and waits for every client; it returns the counts.
func (l *load) stop() (ok, fail int64) {
	l.cancel()
	l.wg.Wait()
	return l.ok.Load(), l.fail.Load()
}

// wait lets the clients finish their bounded work and returns the counts.
func (l *load) wait() (ok, fail int64) {
	l.wg.Wait()
	return l.stop()
}

func (l *load) errors() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.errs...)
}
