package hardening

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/serve-launch/serve-launch/internal/admin"
	"github.com/serve-launch/serve-launch/internal/testing/testenv"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// badSnippets are what an operator might drop into overrides.d by mistake.
// want is what the launcher must say, naming the file and line. atReload
// marks the ones that load and fail only when patched or checked, so a hot
// reload records the failure and taking the snippet out again clears it.
var badSnippets = []struct {
	name, file, content, want string
	mode                      os.FileMode
	atReload                  bool
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
		want: "64-guard.toml:1: edit of \"global\" removes or changes what Ray depends on: admin socket", atReload: true},
	{name: "selector matches nothing", file: "65-nomatch.toml", content: "[[edit]]\nsection = \"backend api-*\"\nset = [\"retries 2\"]\n",
		want: "65-nomatch.toml:1: section \"backend api-*\" matches no section", atReload: true},
	{name: "first-wins key added", file: "66-firstwins.toml", content: "[[edit]]\nsection = \"global\"\nadd = [\"maxconn 10\"]\n",
		want: "66-firstwins.toml:3: add: global maxconn is first-wins"},
	{name: "value haproxy refuses", file: "67-haproxy.toml", content: "[[edit]]\nsection = \"defaults\"\nset = [\"timeout client forever\"]\n",
		want: "timeout client", atReload: true},
	// Issue 17: the template that took 3.4 GB (the launcher was OOM-killed,
	// and Ray and haproxy with it), the same bomb without len, and a rule
	// that would answer Ray's health checks.
	{name: "template bomb", file: "68-bomb.toml",
		content: "[[edit]]\nsection = \"global\"\nset = ['maxconnrate {{ $a := \"x\" }}" + strings.Repeat(`{{ $a = printf "%s%s" $a $a }}`, 30) + "{{ len $a }}']\n",
		want:    `68-bomb.toml:3: template: function "len" is not available in snippets`},
	{name: "template bomb of printf alone", file: "69-bomb.toml",
		content: "[[edit]]\nsection = \"global\"\nset = ['maxconnrate {{ $a := \"x\" }}" + strings.Repeat(`{{ $a = printf "%s%s" $a $a }}`, 30) + "{{ $a }}']\n",
		want:    "in global: the line is longer than 16384 bytes", atReload: true},
	{name: "guard: deny ahead of Ray's health rules", file: "70-deny.toml",
		content: "[[edit]]\nsection = \"frontend http_frontend\"\ninsert = [{ before = \"http-request *\", lines = [\"http-request deny\"] }]\n",
		want:    "70-deny.toml:1: edit of \"frontend http_frontend\" adds what takes over from Ray: frontend http_frontend: http-request deny", atReload: true},
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
			from := l.Log.Len()
			path := filepath.Join(l.OverridesDir, bs.file)
			writeSnippet(t, path, bs.content, bs.mode)
			l.Log.WaitFor(t, from, bs.want, 20*time.Second)
			from = l.Log.Len()
			require.NoError(t, os.Remove(path))
			if bs.atReload {
				// The user undid the change: the launcher says the failure
				// is over, as status then does.
				l.Log.WaitFor(t, from, "already runs these overrides; the failure on record is cleared", 20*time.Second)
			}
			assert.Equal(t, base, l.snapshot(t), "haproxy changed after a bad snippet")
			assert.Equal(t, 200, l.get(t))
		})
	}
	for _, bs := range badSnippets {
		t.Run("reload command: "+bs.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "overrides.d")
			testenv.CopyOverrides(t, dir)
			writeSnippet(t, filepath.Join(dir, bs.file), bs.content, bs.mode)
			r := serveLaunch(t, l.Dir, 60*time.Second, l.Env, "reload", "--state-dir", l.StateDir, "--overrides", dir)
			assert.NotEqual(t, 0, r.code, "stdout: %s\nstderr: %s", r.stdout, r.stderr)
			assert.Contains(t, r.stderr, bs.want)
			assert.Equal(t, 1, strings.Count(r.stdout+r.stderr, bs.want), "the error is said once\nstdout: %s\nstderr: %s", r.stdout, r.stderr)
			assert.Equal(t, base, l.snapshot(t), "haproxy changed after a bad snippet")
			assert.Equal(t, 200, l.get(t))
		})
	}
	// The good overrides still reload: nothing was left half-applied.
	r := serveLaunch(t, l.Dir, 60*time.Second, l.Env, "reload", "--state-dir", l.StateDir, "--overrides", l.OverridesDir, "--format", "json")
	require.Equal(t, 0, r.code, "stderr: %s", r.stderr)
	assert.Contains(t, r.stdout, `"outcome": "unchanged"`)
}

func writeSnippet(t *testing.T, path, content string, mode os.FileMode) {
	t.Helper()
	if mode == 0 {
		mode = 0o644
	}
	testenv.WriteAtomic(t, path, content, mode)
}

// launcher is one `serve-launch run -- raysim` under test.
type launcher struct {
	*testenv.Launched
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
	info, err := admin.ShowInfo(ctx, l.Socket)
	require.NoError(t, err, "haproxy's admin socket must answer")
	keep := map[string]string{}
	for _, k := range []string{"Name", "Version", "Pid", "Process_num", "Nbthread", "Maxconn", "Hard_maxconn", "ConnRateLimit", "SessRateLimit", "Stopping"} {
		keep[k] = info[k]
	}
	files, err := filepath.Glob(filepath.Join(l.StateDir, "*", "*", "patched*.cfg"))
	require.NoError(t, err)
	more, _ := filepath.Glob(filepath.Join(l.StateDir, "*", "patched*.cfg"))
	files = append(files, more...)
	require.NotEmpty(t, files, "patched.cfg in %s", l.StateDir)
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
	resp, err := c.Get(fmt.Sprintf("http://127.0.0.1:%d/app1", l.HTTPPort))
	require.NoError(t, err)
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

func startLauncher(t *testing.T) *launcher {
	t.Helper()
	return &launcher{testenv.Start(t, bins, testenv.Launch{})}
}
