package hardening

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/serve-launch/serve-launch/internal/admin"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// badSnippets are what an operator might drop into overrides.d by mistake.
// want is what the launcher must say, naming the file and line.
var badSnippets = []struct {
	name, file, content, want string
	mode                      os.FileMode
}{
	{name: "TOML syntax", file: "60-syntax.toml", content: "[[edit]\nsection = \"global\"\n",
		want: "60-syntax.toml:1:7: toml: expected ']]'"},
	{name: "unknown key", file: "61-typo.toml", content: "[[edit]]\nsection = \"defaults\"\nsett = [\"timeout client 1s\"]\n",
		want: "61-typo.toml:3:1: unknown key \"sett\""},
	{name: "binary garbage", file: "62-binary.toml", content: "\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00",
		want: "62-binary.toml:1:"},
	{name: "others can write it", file: "63-writable.toml", content: goodSnippet, mode: 0o666,
		want: "63-writable.toml: refusing the snippet: it is writable by group or others (mode 0666"},
	{name: "guard: deletes Ray's admin socket", file: "64-guard.toml", content: "[[edit]]\nsection = \"global\"\ndelete = [\"stats socket *\"]\n",
		want: "64-guard.toml:1: edit of \"global\" removes or changes what Ray depends on: admin socket"},
	{name: "selector matches nothing", file: "65-nomatch.toml", content: "[[edit]]\nsection = \"backend api-*\"\nset = [\"retries 2\"]\n",
		want: "65-nomatch.toml:1: section \"backend api-*\" matches no section"},
	{name: "first-wins key added", file: "66-firstwins.toml", content: "[[edit]]\nsection = \"global\"\nadd = [\"maxconn 10\"]\n",
		want: "66-firstwins.toml:3: add: global maxconn is first-wins"},
	{name: "value haproxy refuses", file: "67-haproxy.toml", content: "[[edit]]\nsection = \"defaults\"\nset = [\"timeout client forever\"]\n",
		want: "timeout client"},
}

// TestLiveHAProxyStaysUp runs `serve-launch run -- raysim` on the real
// haproxy, then brings each bad snippet in twice: into the watched
// overrides directory (hot reload) and through `serve-launch reload` with a
// directory holding it. After each, haproxy must be the same process with
// the same `show info` and the same patched config, and still serve.
func TestLiveHAProxyStaysUp(t *testing.T) {
	l := startLauncher(t)
	base := l.snapshot(t)
	require.Equal(t, 200, l.get(t), "serving before any bad input")

	for _, bs := range badSnippets {
		t.Run("hot reload: "+bs.name, func(t *testing.T) {
			from := l.log.len()
			path := filepath.Join(l.overridesDir, bs.file)
			writeSnippet(t, path, bs.content, bs.mode)
			l.log.waitFor(t, from, bs.want, 20*time.Second)
			require.NoError(t, os.Remove(path))
			assert.Equal(t, base, l.snapshot(t), "haproxy changed after a bad snippet")
			assert.Equal(t, 200, l.get(t))
		})
	}
	for _, bs := range badSnippets {
		t.Run("reload command: "+bs.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "overrides.d")
			copyOverrides(t, dir)
			writeSnippet(t, filepath.Join(dir, bs.file), bs.content, bs.mode)
			r := serveLaunch(t, l.dir, 60*time.Second, l.env, "reload", "--state-dir", l.stateDir, "--overrides", dir)
			assert.NotEqual(t, 0, r.code, "stdout: %s\nstderr: %s", r.stdout, r.stderr)
			assert.Contains(t, r.stderr, bs.want)
			assert.Equal(t, base, l.snapshot(t), "haproxy changed after a bad snippet")
			assert.Equal(t, 200, l.get(t))
		})
	}
	// The good overrides still reload: nothing was left half-applied.
	r := serveLaunch(t, l.dir, 60*time.Second, l.env, "reload", "--state-dir", l.stateDir, "--overrides", l.overridesDir, "--format", "json")
	require.Equal(t, 0, r.code, "stderr: %s", r.stderr)
	assert.Contains(t, r.stdout, `"outcome": "unchanged"`)
}

func writeSnippet(t *testing.T, path, content string, mode os.FileMode) {
	t.Helper()
	if mode == 0 {
		mode = 0o644
	}
	// Write aside and rename, as editors and ConfigMaps do, so the watcher
	// never reads half a file.
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp")
	require.NoError(t, os.WriteFile(tmp, []byte(content), 0o600))
	require.NoError(t, os.Chmod(tmp, mode))
	require.NoError(t, os.Rename(tmp, path))
}

// launcher is one `serve-launch run -- raysim` under test.
type launcher struct {
	dir, stateDir, overridesDir, socket string
	httpPort                            int
	env                                 []string
	cmd                                 *exec.Cmd
	log                                 *lineLog
	exited                              chan struct{}
}

// snapshot is what must not change while bad inputs arrive.
type snapshot struct {
	Info    map[string]string
	Patched string // sha256 of every patched.cfg in the state dir
}

func (l *launcher) snapshot(t *testing.T) snapshot {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	info, err := admin.ShowInfo(ctx, l.socket)
	require.NoError(t, err, "haproxy's admin socket must answer")
	keep := map[string]string{}
	for _, k := range []string{"Name", "Version", "Pid", "Process_num", "Nbthread", "Maxconn", "Hard_maxconn", "ConnRateLimit", "SessRateLimit", "Stopping"} {
		keep[k] = info[k]
	}
	files, err := filepath.Glob(filepath.Join(l.stateDir, "*", "*", "patched*.cfg"))
	require.NoError(t, err)
	more, _ := filepath.Glob(filepath.Join(l.stateDir, "*", "patched*.cfg"))
	files = append(files, more...)
	require.NotEmpty(t, files, "patched.cfg in %s", l.stateDir)
	h := sha256.New()
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		fmt.Fprintf(h, "%s %d\n", f, len(b))
		h.Write(b)
	}
	return snapshot{Info: keep, Patched: hex.EncodeToString(h.Sum(nil))}
}

func (l *launcher) get(t *testing.T) int {
	t.Helper()
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(fmt.Sprintf("http://127.0.0.1:%d/app1", l.httpPort))
	require.NoError(t, err)
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// copyOverrides copies the repository's overrides.d.
func copyOverrides(t *testing.T, dir string) {
	t.Helper()
	src := filepath.Join("..", "..", "overrides.d")
	ents, err := os.ReadDir(src)
	require.NoError(t, err)
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

func startLauncher(t *testing.T) *launcher {
	t.Helper()
	real, err := exec.LookPath("haproxy")
	require.NoError(t, err, "this test runs the real haproxy: install it (apt-get install -y haproxy)")
	dir := t.TempDir()
	l := &launcher{
		dir:          dir,
		stateDir:     filepath.Join(dir, "state"),
		overridesDir: filepath.Join(dir, "overrides.d"),
		socket:       filepath.Join(dir, "ray", "admin.sock"),
		httpPort:     freePort(t),
		log:          newLineLog(),
		exited:       make(chan struct{}),
	}
	copyOverrides(t, l.overridesDir)
	l.env = []string{
		"RAY_SERVE_HAPROXY_MAXCONN=2000",
		"RAY_SERVE_HAPROXY_CONFIG_FILE_LOC=" + filepath.Join(dir, "ray", "haproxy.cfg"),
		"RAY_SERVE_HAPROXY_SOCKET_PATH=" + l.socket,
		"RAY_SERVE_HAPROXY_SERVER_STATE_BASE=" + filepath.Join(dir, "ray"),
		"RAY_SERVE_HAPROXY_SERVER_STATE_FILE=" + filepath.Join(dir, "ray", "server-state"),
		"RAY_SERVE_HAPROXY_HARD_STOP_AFTER_S=10",
	}
	cmd := exec.Command(launcherBin(), "run", "--state-dir", l.stateDir, "--overrides", l.overridesDir,
		"--haproxy", real, "--grace-period", "3s", "--",
		raysimBin(), "-apps", "1", "-replicas", "2", "-http-port", strconv.Itoa(l.httpPort),
		"-stats-port", strconv.Itoa(freePort(t)), "-metrics-port", strconv.Itoa(freePort(t)))
	cmd.Env = append(os.Environ(), l.env...)
	pr, pw, err := os.Pipe()
	require.NoError(t, err)
	cmd.Stdout, cmd.Stderr = pw, pw
	require.NoError(t, cmd.Start())
	pw.Close()
	l.cmd = cmd
	go l.log.read(pr)
	go func() {
		_ = cmd.Wait()
		close(l.exited)
	}()
	t.Cleanup(func() { l.stop(t) })
	l.log.waitFor(t, 0, "raysim: ready http=", 30*time.Second)
	return l
}

// stop ends the launcher (SIGTERM, SIGKILL after a bounded wait), then
// kills any process left whose command line names this test's directory.
func (l *launcher) stop(t *testing.T) {
	_ = l.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-l.exited:
	case <-time.After(10 * time.Second):
		_ = l.cmd.Process.Kill()
		<-l.exited
	}
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		cl, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && strings.Contains(string(cl), l.dir) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	if t.Failed() {
		t.Logf("launcher output:\n%s", strings.Join(l.log.all(), "\n"))
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

// waitFor waits, bounded, for a line at or after index from containing sub.
func (l *lineLog) waitFor(t *testing.T, from int, sub string, timeout time.Duration) {
	t.Helper()
	deadline := time.After(timeout)
	for {
		l.mu.Lock()
		ch, eof := l.changed, l.eof
		found := false
		for _, line := range l.lines[min(from, len(l.lines)):] {
			if strings.Contains(line, sub) {
				found = true
				break
			}
		}
		l.mu.Unlock()
		if found {
			return
		}
		if eof {
			t.Fatalf("the launcher's output ended without a line containing %q", sub)
		}
		select {
		case <-ch:
		case <-deadline:
			t.Fatalf("no line containing %q within %s", sub, timeout)
		}
	}
}
