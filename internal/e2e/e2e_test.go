// Package e2e runs serve-launch end to end: `serve-launch run -- raysim ...`
// with the real haproxy, real loopback traffic and the repository's
// overrides.d. raysim emulates Ray Serve's haproxy process contract; nothing
// here is a Ray result.
//
// TestMain builds serve-launch and raysim once per package run into a
// temporary directory; every scenario starts its own launcher with free
// ports, temporary directories, RAY_SERVE_HAPROXY_MAXCONN=2000 and a private
// copy of overrides.d, and kills everything it started in t.Cleanup.
package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/serve-launch/serve-launch/internal/admin"
	"github.com/serve-launch/serve-launch/internal/raysim"
	"github.com/stretchr/testify/require"
)

// binDir holds the serve-launch and raysim binaries built by TestMain.
var binDir string

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "serve-launch-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	// `go test` puts its own go first on PATH. One `go build` for both
	// commands: the packages compile in parallel.
	cmd := exec.Command("go", "build", "-o", dir+string(os.PathSeparator),
		"github.com/serve-launch/serve-launch/cmd/serve-launch",
		"github.com/serve-launch/serve-launch/internal/raysim/cmd/raysim")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: building serve-launch and raysim: %v\n", err)
		return 1
	}
	binDir = dir
	return m.Run()
}

func launcherBin() string { return filepath.Join(binDir, "serve-launch") }
func raysimBin() string   { return filepath.Join(binDir, "raysim") }

// realHAProxy fails the test, with the way to fix it, when haproxy is
// missing: these tests claim haproxy behaviour and must not skip.
func realHAProxy(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("haproxy")
	require.NoError(t, err, "the end-to-end tests run the real haproxy: install it (apt-get install -y haproxy, as .ci/run does)")
	return p
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
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
	t                            *testing.T
	dir, stateDir, overridesDir  string
	cfgFile, socket, statusFile  string
	httpPort, statsPort, metrics int
	cmd                          *exec.Cmd
	log                          *lineLog
	exited                       chan struct{}
	started                      time.Time
}

// start runs `serve-launch run -- raysim ...` and waits, bounded, for the
// ready line on the launcher's stderr (raysim writes through it).
func start(t *testing.T, o opts) *run {
	t.Helper()
	real := realHAProxy(t)
	if o.apps == 0 {
		o.apps = 1
	}
	if o.replicas == 0 {
		o.replicas = 2
	}
	dir := t.TempDir()
	r := &run{
		t: t, dir: dir,
		stateDir:     filepath.Join(dir, "state"),
		overridesDir: filepath.Join(dir, "overrides.d"),
		cfgFile:      filepath.Join(dir, "ray", "haproxy.cfg"),
		socket:       filepath.Join(dir, "ray", "admin.sock"),
		statusFile:   filepath.Join(dir, "status.json"),
		httpPort:     freePort(t), statsPort: freePort(t), metrics: freePort(t),
		log:    newLineLog(),
		exited: make(chan struct{}),
	}
	copyOverrides(t, r.overridesDir)
	if o.overrides != nil {
		o.overrides(t, r.overridesDir)
	}
	args := []string{"run", "--state-dir", r.stateDir, "--overrides", r.overridesDir,
		"--haproxy", real, "--grace-period", "3s"}
	args = append(args, o.launcher...)
	args = append(args, "--", raysimBin(),
		"-apps", strconv.Itoa(o.apps), "-replicas", strconv.Itoa(o.replicas),
		"-http-port", strconv.Itoa(r.httpPort), "-stats-port", strconv.Itoa(r.statsPort),
		"-metrics-port", strconv.Itoa(r.metrics), "-status-file", r.statusFile)
	args = append(args, o.raysim...)
	cmd := exec.Command(launcherBin(), args...)
	extra := []string{}
	if o.direct {
		i := slices.Index(args, "--")
		cmd = exec.Command(args[i+1], args[i+2:]...)
		extra = append(extra, "RAY_SERVE_HAPROXY_BINARY_PATH="+real)
	}
	cmd.Env = append(os.Environ(), extra...)
	cmd.Env = append(cmd.Env,
		"RAY_SERVE_HAPROXY_MAXCONN=2000",
		"RAY_SERVE_HAPROXY_CONFIG_FILE_LOC="+r.cfgFile,
		"RAY_SERVE_HAPROXY_SOCKET_PATH="+r.socket,
		"RAY_SERVE_HAPROXY_SERVER_STATE_BASE="+filepath.Join(dir, "ray"),
		"RAY_SERVE_HAPROXY_SERVER_STATE_FILE="+filepath.Join(dir, "ray", "server-state"),
		"RAY_SERVE_HAPROXY_HARD_STOP_AFTER_S=10",
	)
	cmd.Env = append(cmd.Env, o.env...)
	// Our own pipe rather than StderrPipe: raysim inherits the write end, so
	// the reader sees EOF only once every holder has gone, and Wait does not
	// close it under the reader.
	pr, pw, err := os.Pipe()
	require.NoError(t, err)
	cmd.Stdout, cmd.Stderr = pw, pw
	r.started = time.Now()
	require.NoError(t, cmd.Start())
	pw.Close()
	r.cmd = cmd
	go r.log.read(pr)
	go func() {
		_ = cmd.Wait()
		close(r.exited)
	}()
	t.Cleanup(r.stop)

	ready := o.ready
	if ready == "" {
		ready = "raysim: ready http="
	}
	r.log.waitFor(t, 0, ready, 30*time.Second)
	return r
}

// stop ends the launcher (SIGTERM, then SIGKILL after a bounded wait), then
// SIGKILLs whatever is left whose command line names this test's directory,
// and logs the launcher's output when the test failed.
func (r *run) stop() {
	if r.cmd.ProcessState == nil {
		_ = r.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-r.exited:
		case <-time.After(10 * time.Second):
			_ = r.cmd.Process.Kill()
			<-r.exited
		}
	}
	for _, pid := range processesMentioning(r.dir, "") {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	if r.t.Failed() || os.Getenv("E2E_VERBOSE") != "" {
		r.t.Logf("launcher output:\n%s", strings.Join(r.log.all(), "\n"))
	}
}

// terminate sends SIGTERM to the launcher and waits, bounded, for its exit.
func (r *run) terminate(t *testing.T) {
	t.Helper()
	require.NoError(t, r.cmd.Process.Signal(syscall.SIGTERM))
	select {
	case <-r.exited:
	case <-time.After(10 * time.Second):
		t.Fatal("the launcher did not exit within 10s of SIGTERM")
	}
}

func (r *run) url(path string) string {
	return fmt.Sprintf("http://127.0.0.1:%d%s", r.httpPort, path)
}

func (r *run) ports() []int { return []int{r.httpPort, r.statsPort, r.metrics} }

// status reads raysim's status file.
func (r *run) status(t *testing.T) raysim.Status {
	t.Helper()
	b, err := os.ReadFile(r.statusFile)
	require.NoError(t, err)
	var st raysim.Status
	require.NoError(t, json.Unmarshal(b, &st))
	return st
}

// ctx is a context for one admin or HTTP call.
func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	t.Cleanup(cancel)
	return c
}

// appServers returns the `show stat` rows of the servers of Ray's
// application backends (http-*), keyed by "backend/server".
func (r *run) appServers(t *testing.T) map[string]map[string]string {
	t.Helper()
	rows, err := admin.ShowStat(ctx(t), r.socket)
	require.NoError(t, err)
	out := map[string]map[string]string{}
	for _, row := range rows {
		if strings.HasPrefix(row["pxname"], "http-") && row["svname"] != "BACKEND" && row["svname"] != "FRONTEND" {
			out[row["pxname"]+"/"+row["svname"]] = row
		}
	}
	return out
}

func (r *run) info(t *testing.T) map[string]string {
	t.Helper()
	info, err := admin.ShowInfo(ctx(t), r.socket)
	require.NoError(t, err)
	return info
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

// eventually polls cond every 50 ms until it holds or timeout passes; the
// failure message is cond's last explanation.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, why := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s: %s", what, timeout, why)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// lineLog collects the launcher's output lines and lets tests wait for one.
type lineLog struct {
	mu      sync.Mutex
	lines   []string
	eof     bool
	changed chan struct{}
}

func newLineLog() *lineLog { return &lineLog{changed: make(chan struct{})} }

func (l *lineLog) read(rd io.ReadCloser) {
	defer rd.Close()
	sc := bufio.NewScanner(rd)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		l.mu.Lock()
		l.lines = append(l.lines, sc.Text())
		close(l.changed)
		l.changed = make(chan struct{})
		l.mu.Unlock()
	}
	l.mu.Lock()
	l.eof = true
	close(l.changed)
	l.changed = make(chan struct{})
	l.mu.Unlock()
}

func (l *lineLog) all() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.lines...)
}

func (l *lineLog) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.lines)
}

// find returns the index of the first line at or after from containing
// any of subs, or -1.
func (l *lineLog) find(from int, subs ...string) (int, string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i := from; i < len(l.lines); i++ {
		for _, s := range subs {
			if strings.Contains(l.lines[i], s) {
				return i, l.lines[i]
			}
		}
	}
	return -1, ""
}

// waitFor waits for a line at or after index from containing one of subs
// and returns its index and text; it fails at EOF or after timeout.
func (l *lineLog) waitFor(t *testing.T, from int, sub string, timeout time.Duration, more ...string) (int, string) {
	t.Helper()
	subs := append([]string{sub}, more...)
	deadline := time.After(timeout)
	for {
		l.mu.Lock()
		ch, eof := l.changed, l.eof
		l.mu.Unlock()
		if i, line := l.find(from, subs...); i >= 0 {
			return i, line
		}
		if eof {
			t.Fatalf("the launcher's output ended without a line containing %q", subs)
		}
		select {
		case <-ch:
		case <-deadline:
			t.Fatalf("no line containing %q within %s", subs, timeout)
		}
	}
}

// processesMentioning lists the PIDs whose command line contains sub and,
// when comm is set, whose /proc/PID/comm is comm.
func processesMentioning(sub, comm string) []int {
	ents, _ := os.ReadDir("/proc")
	var pids []int
	self := os.Getpid()
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self {
			continue
		}
		cl, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || !strings.Contains(string(cl), sub) {
			continue
		}
		if comm != "" {
			c, err := os.ReadFile(filepath.Join("/proc", e.Name(), "comm"))
			if err != nil || strings.TrimSpace(string(c)) != comm {
				continue
			}
		}
		if isZombie(pid) {
			continue
		}
		pids = append(pids, pid)
	}
	return pids
}

// isZombie reports whether pid has exited and only waits to be reaped (or
// is gone): such a process holds no port and serves nothing.
func isZombie(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] == 'Z' || s[i+2] == 'X'
}

// parentPID reads pid's parent from /proc.
func parentPID(t *testing.T, pid int) int {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	require.NoError(t, err)
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	ppid, err := strconv.Atoi(f[1])
	require.NoError(t, err)
	return ppid
}

func alive(pid int) bool {
	return pid > 0 && syscall.Kill(pid, 0) == nil && !isZombie(pid)
}

// portFree reports whether nothing listens on 127.0.0.1:port or *:port.
func portFree(port int) error {
	l, err := net.Listen("tcp", fmt.Sprintf(":%d", port))
	if err != nil {
		return err
	}
	return l.Close()
}

// copyOverrides copies the repository's overrides.d into dir.
func copyOverrides(t *testing.T, dir string) {
	t.Helper()
	src := filepath.Join("..", "..", "overrides.d")
	ents, err := os.ReadDir(src)
	require.NoError(t, err, "the repository's overrides.d")
	require.NoError(t, os.MkdirAll(dir, 0o755))
	for _, e := range ents {
		if e.IsDir() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, e.Name()), b, 0o644))
	}
}

// writeAtomic replaces a file by rename, as editors and ConfigMaps do.
func writeAtomic(t *testing.T, path, content string) {
	t.Helper()
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp")
	require.NoError(t, os.WriteFile(tmp, []byte(content), 0o644))
	require.NoError(t, os.Rename(tmp, path))
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

// waitExit waits, bounded, for a process that is not our child to go.
func waitGone(pids []int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		var left []int
		for _, p := range pids {
			if alive(p) {
				left = append(left, p)
			}
		}
		if len(left) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("still running after %s: %v", timeout, left)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
