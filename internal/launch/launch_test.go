package launch

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/serve-launch/serve-launch/internal/envmap"
	"github.com/serve-launch/serve-launch/internal/patch/load"
	"github.com/serve-launch/serve-launch/internal/proc/shim"
	"github.com/serve-launch/serve-launch/internal/proc/state"
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
	env := loadEnv(t, "RAY_SERVE_HAPROXY_MAXCONN=2000", "PATH=/usr/bin", shim.EnvNoProvenance+"=1")
	got := ChildEnviron(ChildConfig{
		Env: env, Base: []string{"RAY_SERVE_HAPROXY_MAXCONN=2000", "PATH=/usr/bin", shim.EnvNoProvenance + "=1", "HOME=/root"},
		ShimDir: "/state/bin", ShimBinary: "/proc/42/fd/3",
		Shim: shim.ShimEnv{StateDir: "/state", OverridesDir: "/o", RealHAProxy: "/usr/sbin/haproxy", OnPatchError: shim.OnPatchErrorPassthrough, LauncherPID: 42},
	})
	joined := "\n" + strings.Join(got, "\n") + "\n"
	for _, want := range []string{
		"RAY_SERVE_ENABLE_HA_PROXY=1", "RAY_SERVE_HAPROXY_BINARY_PATH=/proc/42/fd/3",
		"PATH=/state/bin:/usr/bin", "RAY_SERVE_HAPROXY_MAXCONN=2000", "HOME=/root",
		state.EnvStateDir + "=/state", shim.EnvRealHAProxy + "=/usr/sbin/haproxy", shim.EnvLauncherPID + "=42",
	} {
		assert.Contains(t, joined, "\n"+want+"\n")
	}
	// A loosening flag inherited from the caller's environment never reaches the shim.
	assert.NotContains(t, joined, shim.EnvNoProvenance)
	assert.Equal(t, 1, strings.Count(joined, "\nPATH="))
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
