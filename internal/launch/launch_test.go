package launch

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/serve-launch/serve-launch/internal/envmap"
	"github.com/serve-launch/serve-launch/internal/patch/load"
	"github.com/serve-launch/serve-launch/internal/proc"
	"github.com/serve-launch/serve-launch/internal/testing/testenv"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func haproxyPath(t *testing.T) string {
	t.Helper()
	return testenv.HAProxy(t)
}

func loadEnv(t *testing.T, environ ...string) *envmap.Env {
	env, err := envmap.Load(envmap.Options{Environ: environ, NoFileLimit: 100000})
	require.NoError(t, err)
	return env
}

func TestPreflight(t *testing.T) {
	hap := haproxyPath(t)
	env := loadEnv(t, "RAY_SERVE_HAPROXY_MAXCONN=2000")
	t.Run("repository overrides pass", func(t *testing.T) {
		o, err := load.Dir(filepath.Join("..", "..", "overrides.d"), load.Options{})
		require.NoError(t, err)
		require.NoError(t, Preflight(context.Background(), env, o, hap, os.LookupEnv))
	})
	t.Run("a value haproxy refuses names the snippet line", func(t *testing.T) {
		dir := t.TempDir()
		require.NoError(t, os.WriteFile(filepath.Join(dir, "10-bad.toml"),
			[]byte("[[edit]]\nsection = \"defaults\"\nset = [\"timeout client forever\"]\n"), 0o600))
		o, err := load.Dir(dir, load.Options{})
		require.NoError(t, err)
		err = Preflight(context.Background(), env, o, hap, os.LookupEnv)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "10-bad.toml:3")
		assert.Contains(t, err.Error(), "timeout client")
	})
}

func TestChildEnviron(t *testing.T) {
	env := loadEnv(t, "RAY_SERVE_HAPROXY_MAXCONN=2000", "PATH=/usr/bin", proc.EnvNoProvenance+"=1")
	got := ChildEnviron(ChildConfig{
		Env: env, Base: []string{"RAY_SERVE_HAPROXY_MAXCONN=2000", "PATH=/usr/bin", proc.EnvNoProvenance + "=1", "HOME=/root"},
		ShimDir: "/state/bin", ShimBinary: "/proc/42/fd/3",
		Shim: proc.ShimEnv{StateDir: "/state", OverridesDir: "/o", RealHAProxy: "/usr/sbin/haproxy", OnPatchError: proc.OnPatchErrorPassthrough, LauncherPID: 42},
	})
	joined := "\n" + strings.Join(got, "\n") + "\n"
	for _, want := range []string{
		"RAY_SERVE_ENABLE_HA_PROXY=1", "RAY_SERVE_HAPROXY_BINARY_PATH=/proc/42/fd/3",
		"PATH=/state/bin:/usr/bin", "RAY_SERVE_HAPROXY_MAXCONN=2000", "HOME=/root",
		proc.EnvStateDir + "=/state", proc.EnvRealHAProxy + "=/usr/sbin/haproxy", proc.EnvLauncherPID + "=42",
	} {
		assert.Contains(t, joined, "\n"+want+"\n")
	}
	// A loosening flag inherited from the caller's environment never reaches the shim.
	assert.NotContains(t, joined, proc.EnvNoProvenance)
	assert.Equal(t, 1, strings.Count(joined, "\nPATH="))
}

// TestPatcherUsesRayEnvironment: a hot reload must render `env` from Ray's
// environment (env files applied), not the launcher's, or values set only in
// an env file would change at the first reload.
func TestPatcherUsesRayEnvironment(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "10-node.toml"),
		[]byte("[[edit]]\nsection = \"global\"\nset = [\"maxconnrate {{ env \\\"SERVE_LAUNCH_TEST_ONLY_RATE\\\" }}\"]\n"), 0o600))
	o, err := load.Dir(dir, load.Options{})
	require.NoError(t, err)
	_, inProcessEnv := os.LookupEnv("SERVE_LAUNCH_TEST_ONLY_RATE")
	require.False(t, inProcessEnv)
	patcher := ReloadPatcher(o, nil, true, Lookup([]string{"SERVE_LAUNCH_TEST_ONLY_RATE=77"}), proc.OnPatchErrorQuarantine, t.TempDir())
	res := patcher(context.Background(), proc.PatchRequest{Name: "gen.cfg", Generated: []byte("global\n    maxconn 10\n")})
	assert.Empty(t, res.Unpatched)
	assert.Empty(t, res.Quarantined)
	assert.Equal(t, "global\n    maxconn 10\n    maxconnrate 77\n", string(res.Data))
	// What the hot reload records for that patch.
	data, err := os.ReadFile(filepath.Join(dir, "10-node.toml"))
	require.NoError(t, err)
	sum := sha256.Sum256(data)
	assert.Equal(t, []proc.Snippet{{Name: "10-node.toml", SHA256: hex.EncodeToString(sum[:])}}, res.Snippets)
}

// TestShimPatchesWithSnippetsAsOfTheLock: the shim loads its patcher when it
// starts, then may wait seconds (for the haproxy it replaces to finish
// starting, then for the instance lock) before it patches, and a hot reload
// can run to completion in that window. The shim must patch with the
// snippets as they are once it holds the instance lock: with snippets loaded
// earlier it would exec haproxy on what the hot reload already replaced, and
// nothing would reload it again.
func TestShimPatchesWithSnippetsAsOfTheLock(t *testing.T) {
	overrides := t.TempDir()
	snippet := filepath.Join(overrides, "10-rate.toml")
	write := func(rate string) {
		require.NoError(t, os.WriteFile(snippet,
			[]byte("[[edit]]\nsection = \"global\"\nset = [\"maxconnrate "+rate+"\"]\n"), 0o600))
	}
	write("10")
	// A hidden file is no snippet (load.Dir skips it): the record must
	// not list it either.
	require.NoError(t, os.WriteFile(filepath.Join(overrides, ".10-rate.toml"), []byte("junk"), 0o600))
	state, err := proc.OpenStateDir(filepath.Join(t.TempDir(), "state"))
	require.NoError(t, err)
	cfg := filepath.Join(t.TempDir(), "haproxy.cfg")
	// haproxy -c checks what the shim starts: it needs a listener.
	const rest = "frontend f\n    bind 127.0.0.1:1\n"
	require.NoError(t, os.WriteFile(cfg, []byte("global\n    maxconn 10\n"+rest), 0o600))

	// A hot reload holds the instance lock, as reloadOne does.
	inst := filepath.Join(state.Path(), proc.InstanceID([]string{cfg}))
	require.NoError(t, os.Mkdir(inst, 0o700))
	lock, err := os.OpenFile(filepath.Join(inst, "lock"), os.O_RDWR|os.O_CREATE, 0o600)
	require.NoError(t, err)
	defer lock.Close()
	require.NoError(t, syscall.Flock(int(lock.Fd()), syscall.LOCK_EX))

	// The shim starts as cmd/serve-launch's runShim starts it.
	real := haproxyPath(t)
	patcher := ShimPatcher(proc.ShimEnv{OverridesDir: overrides, NoProvenance: true, StateDir: state.Path()}, real)
	var execd []string
	done := make(chan error, 1)
	go func() {
		done <- proc.RunShim(context.Background(), proc.ShimConfig{
			Argv: []string{"-db", "-f", cfg}, RealHAProxy: real, StateDir: state.Path(),
			Patcher: patcher, OverridesDir: overrides,
			Exec: func(_ string, argv, _ []string) error { execd = argv; return nil },
		})
	}()
	write("20") // the edit the hot reload applies
	require.NoError(t, syscall.Flock(int(lock.Fd()), syscall.LOCK_UN))
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(2 * proc.LockWait):
		t.Fatal("the shim did not finish")
	}
	require.NotEmpty(t, execd, "the shim exec'd haproxy")
	patched, err := os.ReadFile(filepath.Join(inst, proc.PatchedFile))
	require.NoError(t, err)
	assert.Equal(t, "global\n    maxconn 10\n    maxconnrate 20\n"+rest, string(patched))
	// The record names the snippet as it was applied.
	ins, err := proc.Status(state)
	require.NoError(t, err)
	require.Len(t, ins, 1)
	data, err := os.ReadFile(snippet)
	require.NoError(t, err)
	sum := sha256.Sum256(data)
	assert.Equal(t, []proc.Snippet{{Name: "10-rate.toml", SHA256: hex.EncodeToString(sum[:])}}, ins[0].Snippets)
}

// TestPreflightErrors: what a user meets at `serve-launch run` before Ray
// starts, each naming what to fix.
func TestPreflightErrors(t *testing.T) {
	hap := haproxyPath(t)
	env := loadEnv(t, "RAY_SERVE_HAPROXY_MAXCONN=2000")
	cases := []struct {
		name    string
		snippet string
		haproxy string
		want    []string
	}{
		{name: "a selector matching nothing names the snippet line",
			snippet: "[[edit]]\nsection = \"backend no-such-app\"\nset = [\"retries 2\"]\n",
			haproxy: hap, want: []string{"10-s.toml:1", "no-such-app", "the config has"}},
		// With no route yet .Servers is 0: fine with the app the main
		// preflight config has, refused on Ray's first start.
		{name: "a value haproxy refuses only at Ray's first start",
			snippet: "[[edit]]\nsection = \"frontend http_frontend\"\nadd = [\"stick-table type ip size {{ mul .Servers 1000 }} expire 10s store http_req_rate(10s)\"]\n",
			haproxy: hap, want: []string{"10-s.toml:3", "haproxy -c on the config of Ray's first start, before any route", "stick-table"}},
		{name: "a template error names the snippet line",
			snippet: "[[edit]]\nsection = \"global\"\nset = [\"maxconnrate {{ mul .NoSuchFact 2 }}\"]\n",
			haproxy: hap, want: []string{"10-s.toml:3", "NoSuchFact"}},
		{name: "an env value the snippet needs but Ray lacks",
			snippet: "[[edit]]\nsection = \"global\"\nset = [\"maxconnrate {{ env \\\"SERVE_LAUNCH_TEST_UNSET\\\" }}\"]\n",
			haproxy: hap, want: []string{"10-s.toml:3", "SERVE_LAUNCH_TEST_UNSET"}},
		{name: "a haproxy that cannot run",
			snippet: "[[edit]]\nsection = \"defaults\"\nset = [\"timeout queue 30s\"]\n",
			haproxy: filepath.Join(t.TempDir(), "no-haproxy"), want: []string{"no-haproxy"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			require.NoError(t, os.WriteFile(filepath.Join(dir, "10-s.toml"), []byte(c.snippet), 0o600))
			o, err := load.Dir(dir, load.Options{})
			require.NoError(t, err)
			err = Preflight(context.Background(), env, o, c.haproxy, Lookup(nil))
			require.Error(t, err)
			for _, w := range c.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

// TestShimPatcherLoadErrors: what the shim cannot load never fails a start:
// a bad file is left out (quarantined) with what is wrong, a directory that
// cannot be read leaves every snippet out, and haproxy runs the rest.
func TestShimPatcherLoadErrors(t *testing.T) {
	good := "[[edit]]\nsection = \"global\"\nset = [\"maxconnrate 5\"]\n"
	cases := []struct {
		name        string
		setup       func(t *testing.T) string
		unpatched   string
		quarantined string
	}{
		{name: "directory removed", unpatched: "overrides directory", setup: func(t *testing.T) string {
			return filepath.Join(t.TempDir(), "gone")
		}},
		{name: "broken TOML", quarantined: "10-bad.toml", setup: func(t *testing.T) string {
			dir := t.TempDir()
			require.NoError(t, os.WriteFile(filepath.Join(dir, "10-bad.toml"), []byte("[[edit]\n"), 0o600))
			require.NoError(t, os.WriteFile(filepath.Join(dir, "20-good.toml"), []byte(good), 0o600))
			return dir
		}},
		{name: "group-writable snippet", quarantined: "chmod go-w", setup: func(t *testing.T) string {
			dir := t.TempDir()
			p := filepath.Join(dir, "10-a.toml")
			require.NoError(t, os.WriteFile(p, []byte("[[edit]]\nsection = \"global\"\nset = [\"maxconnrate 9\"]\n"), 0o600))
			require.NoError(t, os.Chmod(p, 0o664))
			require.NoError(t, os.WriteFile(filepath.Join(dir, "20-good.toml"), []byte(good), 0o600))
			return dir
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			patcher := ShimPatcher(proc.ShimEnv{OverridesDir: c.setup(t), NoProvenance: true}, "")
			gen := []byte("global\n    maxconn 10\n")
			res := patcher(context.Background(), proc.PatchRequest{Name: "gen.cfg", Generated: gen})
			if c.unpatched != "" {
				assert.Contains(t, res.Unpatched, c.unpatched)
				assert.Equal(t, string(gen), string(res.Data), "Ray's config runs as it is")
				assert.Empty(t, res.Snippets, "nothing was applied")
				return
			}
			assert.Empty(t, res.Unpatched)
			require.Len(t, res.Quarantined, 1)
			assert.Contains(t, res.Quarantined[0].Error, c.quarantined)
			assert.Equal(t, "global\n    maxconn 10\n    maxconnrate 5\n", string(res.Data), "the good snippet applies")
			require.Len(t, res.Snippets, 1)
			assert.Equal(t, "20-good.toml", res.Snippets[0].Name)
		})
	}
}

// TestShimPatcherListsWhatItApplied: the record's snippet list comes from
// the load the patch used, not from reading the directory again, so an edit
// right after the patch does not put a digest of content that was never
// applied into the record.
func TestShimPatcherListsWhatItApplied(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "10-rate.toml")
	applied := []byte("[[edit]]\nsection = \"global\"\nset = [\"maxconnrate 10\"]\n")
	require.NoError(t, os.WriteFile(p, applied, 0o600))
	patcher := ShimPatcher(proc.ShimEnv{OverridesDir: dir, NoProvenance: true}, "")
	res := patcher(context.Background(), proc.PatchRequest{Name: "gen.cfg", Generated: []byte("global\n    maxconn 10\n")})
	assert.Equal(t, "global\n    maxconn 10\n    maxconnrate 10\n", string(res.Data))
	require.NoError(t, os.WriteFile(p, []byte("[[edit]]\nsection = \"global\"\nset = [\"maxconnrate 99\"]\n"), 0o600))
	sum := sha256.Sum256(applied)
	assert.Equal(t, []proc.Snippet{{Name: "10-rate.toml", SHA256: hex.EncodeToString(sum[:])}}, res.Snippets)
}
