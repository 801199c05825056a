package patch

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/serve-launch/serve-launch/internal/patch/config"
	"github.com/serve-launch/serve-launch/internal/patch/snippet"
	"github.com/serve-launch/serve-launch/internal/testing/testenv"
)

// repoOverrides loads the overrides.d shipped at the repository root: its
// *.toml files in name order, as load.Dir does (which imports this package,
// so its tests cannot call it).
func repoOverrides(t testing.TB) *Overrides {
	paths, err := filepath.Glob(filepath.Join("..", "..", "overrides.d", "*.toml"))
	require.NoError(t, err)
	o := &Overrides{Dir: filepath.Join("..", "..", "overrides.d")}
	for _, path := range paths {
		sn, err := snippet.Load(path, mustRead(t, path))
		require.NoError(t, err)
		o.Snippets = append(o.Snippets, sn)
	}
	require.NotEmpty(t, o.Snippets)
	return o
}

func noEnv(string) (string, bool) { return "", false }

func TestRepoOverridesGolden(t *testing.T) {
	o := repoOverrides(t)
	for _, path := range testConfigs(t) {
		if filepath.Base(path) == "hostile.cfg" {
			continue // no Ray sections to edit
		}
		t.Run(filepath.Base(path), func(t *testing.T) {
			in := mustRead(t, path)
			out, err := o.Patch(filepath.Base(path), in, ApplyOptions{Getenv: noEnv})
			require.NoError(t, err)
			golden(t, "repo-overrides/"+strings.TrimSuffix(filepath.Base(path), ".cfg")+".golden", out)

			again, err := o.Patch(filepath.Base(path), out, ApplyOptions{Getenv: noEnv})
			require.NoError(t, err)
			assert.Equal(t, string(out), string(again), "applying the overrides twice must equal once")
		})
	}
}

func TestEmptyOverridesKeepBytes(t *testing.T) {
	o := &Overrides{}
	for _, path := range testConfigs(t) {
		in := mustRead(t, path)
		f, _ := config.Parse(path, in)
		require.NoError(t, o.Apply(f, ApplyOptions{}))
		assert.Equal(t, in, f.Render(), path)
	}
}

// TestRepoOverridesPassHAProxyCheck runs the real haproxy -c on the patched
// 2.55-shape config.
func TestRepoOverridesPassHAProxyCheck(t *testing.T) {
	hap := requireHAProxy(t)
	out, err := repoOverrides(t).Patch("ray-2.55.cfg", mustRead(t, "testdata/ray-2.55.cfg"), ApplyOptions{Getenv: noEnv})
	require.NoError(t, err)
	path := writeRunnable(t, out)
	cmd := exec.Command(hap, "-c", "-f", path)
	msg, err := cmd.CombinedOutput()
	require.NoError(t, err, "haproxy -c: %s", msg)
}

// writeRunnable makes a testdata config runnable here: Ray's /tmp/haproxy-serve
// paths move into a temp dir holding the 500.http file the errorfile lines
// need, and maxconn drops to what this machine's open-file limit allows.
func writeRunnable(t testing.TB, cfg []byte) string {
	dir := t.TempDir()
	s := strings.ReplaceAll(string(cfg), "/tmp/haproxy-serve", dir)
	s = strings.ReplaceAll(s, "maxconn 20000", "maxconn 2000")
	require.NoError(t, os.WriteFile(filepath.Join(dir, "500.http"),
		[]byte("HTTP/1.1 500 Internal Server Error\r\nContent-Length: 21\r\n\r\nInternal Server Error"), 0o600))
	path := filepath.Join(dir, "haproxy.cfg")
	require.NoError(t, os.WriteFile(path, []byte(s), 0o600))
	return path
}

// requireHAProxy finds the real haproxy or fails: CI installs it, so a
// missing haproxy is a broken setup, not a reason to skip.
func requireHAProxy(t testing.TB) string {
	t.Helper()
	return testenv.HAProxy(t)
}
