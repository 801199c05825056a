package launch

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/serve-launch/serve-launch/internal/envmap"
	"github.com/serve-launch/serve-launch/internal/patch"
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

// TestApplyBuiltIn: the snippets meet Ray's first start and a config with
// apps; a line that fails on both is reported once, and one that fails only
// at the first start says so.
func TestApplyBuiltIn(t *testing.T) {
	tests := []struct {
		name    string
		snippet string
		want    []string // the errors, in order
	}{
		{name: "fits both", snippet: "[[edit]]\nsection = \"global\"\nset = [\"maxconnrate {{ mul .Servers 512 }}\"]\n"},
		{name: "fails on both, once",
			snippet: "[[edit]]\nsection = \"global\"\nset = [\"maxconnrate {{ mul .Server 512 }}\"]\n",
			want:    []string{`10-s.toml:3: template "maxconnrate {{ mul .Server 512 }}" in global: at <.Server>: can't evaluate field Server`}},
		{name: "fails at the first start only",
			snippet: "[[edit]]\nsection = \"global\"\nset = [\"maxconnrate {{ mul 512 (add .Servers -1) }}\"]\n",
			want:    []string{`10-s.toml:3: template "maxconnrate {{ mul 512 (add .Servers -1) }}" gave line "maxconnrate -512": maxconnrate -512 is out of range`}},
		{name: "an app backend edit waits for the apps",
			snippet: "[[edit]]\nsection = \"backend nope\"\nset = [\"retries 2\"]\n",
			want:    []string{`10-s.toml:1: section "backend nope" matches no section; the config has: global`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			require.NoError(t, os.WriteFile(filepath.Join(dir, "10-s.toml"), []byte(tc.snippet), 0o600))
			o, err := load.Dir(dir, load.Options{})
			require.NoError(t, err)
			cfgs, err := BuiltInConfigs(envmap.Release255, nil)
			require.NoError(t, err)
			require.Len(t, cfgs, 2)
			assert.False(t, cfgs[0].FirstStart)
			assert.True(t, cfgs[1].FirstStart)
			files, errs := ApplyBuiltIn(cfgs, o, patch.ApplyOptions{Getenv: Lookup(nil)})
			require.Len(t, errs, len(tc.want), "%v", errs)
			for i, w := range tc.want {
				assert.Contains(t, errs[i].Error(), w)
			}
			if len(tc.want) == 0 {
				require.Len(t, files, 2)
				assert.Equal(t, RayConfigName(envmap.Release255), files[0].Name)
				assert.Equal(t, RayFirstConfigName, files[1].Name)
			}
		})
	}
	first := "[[edit]]\nsection = \"global\"\nset = [\"maxconnrate {{ mul 512 (add .Servers -1) }}\"]\n"
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "10-s.toml"), []byte(first), 0o600))
	o, err := load.Dir(dir, load.Options{})
	require.NoError(t, err)
	cfgs, err := BuiltInConfigs(envmap.Release255, nil)
	require.NoError(t, err)
	_, errs := ApplyBuiltIn(cfgs, o, patch.ApplyOptions{})
	require.Len(t, errs, 1)
	assert.True(t, strings.HasSuffix(errs[0].Error(), "(on Ray's first start, before any route)"), errs[0].Error())
}

// TestBuiltInConfigsFollowTheRelease: master's shape has tune.bufsize,
// 2.55's does not; both render from the same variables.
func TestBuiltInConfigsFollowTheRelease(t *testing.T) {
	for _, tc := range []struct {
		release envmap.Release
		bufsize bool
	}{{envmap.Release255, false}, {envmap.ReleaseMasterJune, true}, {envmap.ReleaseV1, false}} {
		cfgs, err := BuiltInConfigs(tc.release, map[string]string{"RAY_SERVE_HAPROXY_MAXCONN": "2000"})
		require.NoError(t, err)
		for _, c := range cfgs {
			assert.Equal(t, tc.bufsize, strings.Contains(string(c.Data), "tune.bufsize"), "%s %s", tc.release, c.Name)
			assert.Contains(t, string(c.Data), "maxconn 2000")
		}
	}
}

// TestRayVarsLeaveOutWhatTheReleaseIgnores: a value set for a variable the
// target does not read never reaches the built-in configs, as it never
// reaches Ray's (2.55 binds its stats page on 8404 whatever the variable).
func TestRayVarsLeaveOutWhatTheReleaseIgnores(t *testing.T) {
	environ := []string{"RAY_SERVE_HAPROXY_MAXCONN=2000", "RAY_SERVE_HAPROXY_STATS_PORT=9999"}
	env, err := envmap.Load(envmap.Options{Environ: environ, NoFileLimit: 100000})
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"RAY_SERVE_HAPROXY_MAXCONN": "2000"}, RayVars(env))
	env, err = envmap.Load(envmap.Options{Environ: environ, NoFileLimit: 100000, Release: envmap.ReleaseMaster})
	require.NoError(t, err)
	assert.Equal(t, "9999", RayVars(env)["RAY_SERVE_HAPROXY_STATS_PORT"])
}
