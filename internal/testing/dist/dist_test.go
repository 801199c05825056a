// Package dist installs what `make dist` builds the way a user would: it
// builds the release for this machine's architecture with package
// internal/dist (the code scripts/dist runs), installs the wheel with
// `pip install --no-index` into a fresh virtualenv, and runs the programs
// pip put on the virtualenv's PATH: --version, a static-binary check,
// `init` then `render` on a config in Ray's shape, and a short scenario of
// emulated Ray (raysim) under the installed launcher.
//
// It needs python3 with the venv module (Debian: python3-venv, which
// .ci/run installs when missing); like a missing haproxy, a missing venv
// fails the test rather than skipping it.
package dist

import (
	"bufio"
	"context"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/serve-launch/serve-launch/internal/admin"
	"github.com/serve-launch/serve-launch/internal/dist"
	"github.com/serve-launch/serve-launch/internal/raycfg"
	"github.com/serve-launch/serve-launch/internal/testing/testenv"
)

// bins holds raysim (and the programs the scenario does not use): the
// scenario runs the installed serve-launch, not these.
var bins testenv.Binaries

func TestMain(m *testing.M) {
	os.Exit(testenv.MainWithBinaries(m, "dist", &bins))
}

const repoRoot = "../../.."

// version is stamped into the test build: a describe string whose PEP 440
// form takes the .post and local-version path of the mapping.
const version = "v1.2.3-4-gdeadbee"

// run runs a command, failing the test with its output when it fails.
func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s %s:\n%s", name, strings.Join(args, " "), out)
	return string(out)
}

// TestWheelInstall is the whole path a pip user takes, each step a
// subtest of one install.
func TestWheelInstall(t *testing.T) {
	platform, err := dist.PlatformOf(runtime.GOARCH)
	require.NoError(t, err, "this machine's architecture has no release")
	out := filepath.Join(t.TempDir(), "dist")
	start := time.Now()
	a, err := dist.Build(context.Background(), dist.Options{
		Root: repoRoot, Out: out, Version: version,
		Platforms: []dist.Platform{platform}, Log: testLog{t},
	})
	require.NoError(t, err)
	t.Logf("dist.Build for linux/%s took %s", platform.GOARCH, time.Since(start).Round(time.Millisecond))
	require.Len(t, a.Wheels, 1)
	assert.Equal(t, "1.2.3.post4+gdeadbee", a.PyVersion)
	assert.Equal(t, "serve_launch-1.2.3.post4+gdeadbee-py3-none-manylinux_2_17_"+platform.Machine+".manylinux2014_"+platform.Machine+".whl", a.Wheels[0])
	checkSums(t, out)

	// A fresh virtualenv, and pip from it, offline: the wheel is all it
	// gets. By name from the directory, as the README and the Dockerfile
	// do: pip picks the wheel whose tags this machine takes.
	start = time.Now()
	venv := filepath.Join(t.TempDir(), "venv")
	cmd := exec.Command("python3", "-m", "venv", venv)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("python3 -m venv: %v\n%s\nthis test needs python3 with its venv module (Debian: apt-get install python3-venv; .ci/run does)", err, b)
	}
	run(t, filepath.Join(venv, "bin", "python"), "-m", "pip", "install", "--no-index", "--find-links", out, "--no-cache-dir", "--disable-pip-version-check", "--quiet", "serve-launch")
	shown := run(t, filepath.Join(venv, "bin", "python"), "-m", "pip", "show", "--files", "serve-launch")
	assert.Contains(t, shown, "Version: "+a.PyVersion+"\n")
	t.Logf("venv and pip install took %s", time.Since(start).Round(time.Millisecond))
	binDir := filepath.Join(venv, "bin")
	launcher := filepath.Join(binDir, "serve-launch")

	t.Run("both programs on the venv's PATH", func(t *testing.T) {
		for _, name := range dist.Programs {
			st, err := os.Stat(filepath.Join(binDir, name))
			require.NoError(t, err, "pip did not install %s into %s", name, binDir)
			assert.NotZero(t, st.Mode().Perm()&0o111, "%s is not executable", name)
		}
		// Found by name through PATH, as a shell in the activated venv
		// finds it.
		cmd := exec.Command("sh", "-c", "serve-launch --version")
		cmd.Env = append(os.Environ(), "PATH="+binDir+string(os.PathListSeparator)+os.Getenv("PATH"))
		b, err := cmd.Output()
		require.NoError(t, err)
		assert.Equal(t, "serve-launch version "+version+"\n", string(b))
	})

	t.Run("static", func(t *testing.T) {
		for _, name := range dist.Programs {
			assertStatic(t, filepath.Join(binDir, name))
		}
	})

	t.Run("init then render", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "conf")
		run(t, launcher, "init", dir)
		cfg := filepath.Join(t.TempDir(), "haproxy.cfg")
		require.NoError(t, os.WriteFile(cfg, rayConfig(t, 3), 0o644))
		run(t, launcher, "check", "--env-file", filepath.Join(dir, "serve.env"), "--overrides", filepath.Join(dir, "overrides.d"))
		patched := run(t, launcher, "render", "--config", cfg, "--overrides", filepath.Join(dir, "overrides.d"), "--no-provenance")
		// 3 replicas x 512, the rate-limit gap.
		assert.Contains(t, patched, "\n    maxconnrate 1536\n")
		assert.Contains(t, patched, "\n    maxsessrate 1536\n")
		assert.Contains(t, patched, "\n    timeout http-request 30s\n")
	})

	t.Run("systemd install.sh", func(t *testing.T) {
		script := filepath.Join(repoRoot, "docs", "examples", "systemd", "install.sh")
		install := func(root, tarball string) (string, error) {
			cmd := exec.Command("sh", script, tarball)
			cmd.Env = append(os.Environ(), "DESTDIR="+root)
			b, err := cmd.CombinedOutput()
			return string(b), err
		}
		root := t.TempDir()
		got, err := install(root, filepath.Join(out, a.Tarballs[0]))
		require.NoError(t, err, got)
		assert.Contains(t, got, "serve-launch version "+version+"\n")
		for _, name := range dist.Programs {
			p := filepath.Join(root, "usr", "local", "bin", name)
			st, err := os.Stat(p)
			require.NoError(t, err)
			assert.Equal(t, os.FileMode(0o755), st.Mode().Perm(), p)
			assertStatic(t, p)
		}
		for dst, src := range map[string]string{
			"etc/systemd/system/serve-launch.service": "docs/examples/systemd/serve-launch.service",
			"etc/serve/node.env":                      "docs/examples/systemd/node.env",
		} {
			want, err := os.ReadFile(filepath.Join(repoRoot, src))
			require.NoError(t, err)
			have, err := os.ReadFile(filepath.Join(root, dst))
			require.NoError(t, err)
			assert.Equal(t, string(want), string(have), dst)
		}
		assert.FileExists(t, filepath.Join(root, "etc", "serve", "serve.env"))
		assert.FileExists(t, filepath.Join(root, "etc", "serve", "overrides.d", "10-rate-limits.toml"))

		// Again: the settings stay as they are.
		edited := filepath.Join(root, "etc", "serve", "serve.env")
		require.NoError(t, os.WriteFile(edited, []byte("RAY_SERVE_HAPROXY_MAXCONN=2000\n"), 0o644))
		got, err = install(root, filepath.Join(out, a.Tarballs[0]))
		require.NoError(t, err, got)
		assert.Contains(t, got, "holds settings already")
		b, err := os.ReadFile(edited)
		require.NoError(t, err)
		assert.Equal(t, "RAY_SERVE_HAPROXY_MAXCONN=2000\n", string(b))

		// A tarball that does not match SHA256SUMS installs nothing.
		bad := t.TempDir()
		data, err := os.ReadFile(filepath.Join(out, a.Tarballs[0]))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(bad, a.Tarballs[0]), append(data, 0), 0o644))
		sums, err := os.ReadFile(filepath.Join(out, a.Sums))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(bad, a.Sums), sums, 0o644))
		empty := t.TempDir()
		got, err = install(empty, filepath.Join(bad, a.Tarballs[0]))
		require.Error(t, err, got)
		assert.NoDirExists(t, filepath.Join(empty, "usr"))
	})

	t.Run("raysim under the installed launcher", func(t *testing.T) {
		// The overrides are what init writes, by the installed program.
		l := testenv.Start(t, bins.InstalledIn(binDir), testenv.Launch{
			Apps: 1, Replicas: 2,
			Overrides: func(dir string) {
				require.NoError(t, os.RemoveAll(dir))
				run(t, launcher, "init", filepath.Dir(dir))
			},
		})
		resp, err := (&http.Client{Timeout: 10 * time.Second}).Get(fmt.Sprintf("http://127.0.0.1:%d/app1", l.HTTPPort))
		require.NoError(t, err)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		assert.Equal(t, http.StatusOK, resp.StatusCode, "%s", body)
		// The running haproxy has the rate limits of init's snippet: 2
		// replicas x 512.
		testenv.Eventually(t, 10*time.Second, "maxconnrate 1024 in force", func() (bool, string) {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			info, err := admin.ShowInfo(ctx, l.Socket)
			if err != nil {
				return false, err.Error()
			}
			return info["ConnRateLimit"] == "1024" && info["SessRateLimit"] == "1024",
				"ConnRateLimit " + info["ConnRateLimit"] + ", SessRateLimit " + info["SessRateLimit"]
		})
		status := run(t, launcher, "status", "--state-dir", l.StateDir)
		assert.Contains(t, status, "10-rate-limits.toml")
	})

	// Last: pip can take it out again, both programs with it (RECORD
	// names them).
	t.Run("pip uninstall", func(t *testing.T) {
		run(t, filepath.Join(venv, "bin", "python"), "-m", "pip", "uninstall", "--yes", "--quiet", "serve-launch")
		for _, name := range dist.Programs {
			assert.NoFileExists(t, filepath.Join(binDir, name))
		}
	})
}

// assertStatic fails unless path is an ELF executable with no program
// interpreter and no shared library: it runs on any Linux of its
// architecture, which is what the manylinux tag promises.
func assertStatic(t *testing.T, path string) {
	t.Helper()
	f, err := elf.Open(path)
	require.NoError(t, err)
	defer f.Close()
	for _, p := range f.Progs {
		assert.NotEqual(t, elf.PT_INTERP, p.Type, "%s asks for a dynamic loader", path)
	}
	libs, err := f.ImportedLibraries()
	require.NoError(t, err)
	assert.Empty(t, libs, "%s links shared libraries", path)
}

// checkSums verifies SHA256SUMS the way `sha256sum -c` does.
func checkSums(t *testing.T, dir string) {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, "SHA256SUMS"))
	require.NoError(t, err)
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		sum, name, ok := strings.Cut(sc.Text(), "  ")
		require.True(t, ok, "SHA256SUMS: %q", sc.Text())
		data, err := os.ReadFile(filepath.Join(dir, name))
		require.NoError(t, err)
		got := sha256.Sum256(data)
		assert.Equal(t, sum, hex.EncodeToString(got[:]), name)
		n++
	}
	require.NoError(t, sc.Err())
	assert.Equal(t, 4, n, "two binaries, the tarball and the wheel")
}

// rayConfig renders a config in Ray 2.55's shape with one app of n replicas.
func rayConfig(t *testing.T, n int) []byte {
	t.Helper()
	var targets []raycfg.Target
	for i := range n {
		targets = append(targets, raycfg.Target{Name: "SERVE_REPLICA::app1#Model#r" + strconv.Itoa(i), Host: "127.0.0.1", Port: 30000 + i})
	}
	cfg, err := raycfg.Render(raycfg.Options{Shape: raycfg.Shape255, Env: map[string]string{},
		Apps: []raycfg.App{{Name: "app1", RoutePrefix: "/app1", Replicas: targets}}})
	require.NoError(t, err)
	return cfg
}

// testLog sends the build's progress to the test log.
type testLog struct{ t *testing.T }

func (l testLog) Write(p []byte) (int, error) {
	l.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// TestGoInstall: `go install MODULE/cmd/...` installs both programs side
// by side, as the README says (from the checkout here: @latest needs the
// network).
func TestGoInstall(t *testing.T) {
	gobin := t.TempDir()
	cmd := exec.Command("go", "install", "./cmd/...")
	cmd.Dir = repoRoot
	cmd.Env = append(os.Environ(), "GOBIN="+gobin, "GOPROXY=off", "GOFLAGS=-mod=readonly")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	ents, err := os.ReadDir(gobin)
	require.NoError(t, err)
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	assert.Equal(t, dist.Programs, names)
}
