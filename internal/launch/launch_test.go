package launch

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/serve-launch/serve-launch/internal/envmap"
	"github.com/serve-launch/serve-launch/internal/patch"
	"github.com/serve-launch/serve-launch/internal/proc"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func haproxyPath(t *testing.T) string {
	p, err := exec.LookPath("haproxy")
	require.NoError(t, err, "haproxy is not on PATH: install it (apt-get install -y haproxy); .ci/run does")
	return p
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
		o, err := patch.LoadDir(filepath.Join("..", "..", "overrides.d"), patch.LoadOptions{})
		require.NoError(t, err)
		require.NoError(t, Preflight(context.Background(), env, o, hap, os.LookupEnv))
	})
	t.Run("a value haproxy refuses names the snippet line", func(t *testing.T) {
		dir := t.TempDir()
		require.NoError(t, os.WriteFile(filepath.Join(dir, "10-bad.toml"),
			[]byte("[[edit]]\nsection = \"defaults\"\nset = [\"timeout client forever\"]\n"), 0o600))
		o, err := patch.LoadDir(dir, patch.LoadOptions{})
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
		ShimDir: "/state/bin",
		Shim:    proc.ShimEnv{StateDir: "/state", OverridesDir: "/o", RealHAProxy: "/usr/sbin/haproxy", OnPatchError: "fail", LauncherPID: 42},
	})
	joined := "\n" + strings.Join(got, "\n") + "\n"
	for _, want := range []string{
		"RAY_SERVE_ENABLE_HA_PROXY=1", "RAY_SERVE_HAPROXY_BINARY_PATH=/state/bin/haproxy",
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
	o, err := patch.LoadDir(dir, patch.LoadOptions{})
	require.NoError(t, err)
	_, inProcessEnv := os.LookupEnv("SERVE_LAUNCH_TEST_ONLY_RATE")
	require.False(t, inProcessEnv)
	out, err := Patcher(o, true, Lookup([]string{"SERVE_LAUNCH_TEST_ONLY_RATE=77"}))("gen.cfg", []byte("global\n    maxconn 10\n"))
	require.NoError(t, err)
	assert.Equal(t, "global\n    maxconn 10\n    maxconnrate 77\n", string(out))
}
