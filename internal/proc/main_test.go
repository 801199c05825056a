package proc

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"text/template"
	"time"

	"github.com/serve-launch/serve-launch/internal/admin"
	"github.com/serve-launch/serve-launch/internal/testing/testenv"
	"github.com/stretchr/testify/require"
)

// envTestShim switches the test binary into the shim: TestMain then runs
// RunShim on os.Args[1:] instead of the tests, so a test can start "haproxy"
// as a real process whose PID must survive the exec into the real haproxy.
const envTestShim = "PROC_TEST_AS_SHIM"

// envTestBlock makes the test binary wait for its stdin to close and exit:
// a process running this executable, as a shim that has not exec'd yet does.
const envTestBlock = "PROC_TEST_BLOCK"

func TestMain(m *testing.M) {
	if os.Getenv(envTestShim) == "1" {
		os.Exit(testShimMain())
	}
	if os.Getenv(envTestBlock) == "1" {
		io.Copy(io.Discard, os.Stdin)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func testShimMain() int {
	launcher, _ := strconv.Atoi(os.Getenv(EnvLauncherPID))
	err := RunShim(context.Background(), ShimConfig{
		Argv:        os.Args[1:],
		RealHAProxy: os.Getenv(EnvRealHAProxy),
		StateDir:    os.Getenv(EnvStateDir),
		Patcher:     testPatcher,
		LauncherPID: launcher,
	})
	fmt.Fprintf(os.Stderr, "serve-launch: error: %v\n", err)
	return 1
}

// testPatcher stands in for the snippet engine in end-to-end tests: it
// raises the global maxconn from 1000 to 1500 (visible in `show info`) and
// quarantines a snippet file on a "#FAIL" line.
var testPatcher = replacePatcher("maxconn 1000", "maxconn 1500")

// realHAProxy returns the haproxy on PATH; tests that claim haproxy
// behaviour fail without it rather than skip.
func realHAProxy(t *testing.T) string {
	t.Helper()
	p, err := filepath.EvalSymlinks(testenv.HAProxy(t))
	require.NoError(t, err)
	return p
}

// rayConfig is a small config in Ray's shape: admin socket with
// expose-fd listeners, a server-state file loaded from defaults, and an
// application backend.
var rayConfig = template.Must(template.New("cfg").Parse(`global
    maxconn 1000
    stats socket {{.Dir}}/admin.sock mode 600 level admin expose-fd listeners
    stats timeout 30s
    server-state-base {{.Dir}}
    server-state-file {{.Dir}}/server-state
    hard-stop-after 5s
defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
    load-server-state-from-file global
frontend http_frontend
    bind 127.0.0.1:{{.Port}}
    default_backend http-app
backend http-app
    server SERVE_REPLICA_1 127.0.0.1:1 weight 10
{{.Extra}}`))

type rayEnv struct {
	Dir   string // Ray's config dir (socket, state file, config)
	Port  int
	Extra string
	cfg   string
}

func newRayEnv(t *testing.T) *rayEnv {
	// Short path: unix socket names are limited to 108 bytes.
	dir, err := os.MkdirTemp("", "ray")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	e := &rayEnv{Dir: dir, Port: testenv.FreePort(t), cfg: filepath.Join(dir, "haproxy.cfg")}
	e.write(t)
	return e
}

func (e *rayEnv) sock() string { return filepath.Join(e.Dir, "admin.sock") }

// write renders the config the way Ray does: under the exclusive lock, in place.
func (e *rayEnv) write(t *testing.T) {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, rayConfig.Execute(&buf, e))
	lock, err := lockFile(e.cfg+".lock", syscall.LOCK_EX, 5*time.Second, nil)
	require.NoError(t, err)
	defer lock.Close()
	require.NoError(t, os.WriteFile(e.cfg, buf.Bytes(), 0o644))
}

// startShim starts the test binary as the shim with Ray's argv and returns
// the process; cleanup SIGKILLs it and any worker left.
func startShim(t *testing.T, state string, argv ...string) *exec.Cmd {
	t.Helper()
	out, err := os.Create(filepath.Join(t.TempDir(), "haproxy.out"))
	require.NoError(t, err)
	return startShimOutput(t, state, out, argv...)
}

// startShimOutput is startShim with haproxy's stdout and stderr going to out
// (a pipe, to play Ray).
func startShimOutput(t *testing.T, state string, out *os.File, argv ...string) *exec.Cmd {
	t.Helper()
	exe, err := os.Executable()
	require.NoError(t, err)
	cmd := exec.Command(exe, argv...)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.Env = append(os.Environ(), envTestShim+"=1", EnvStateDir+"="+state, EnvRealHAProxy+"="+realHAProxy(t),
		EnvLauncherPID+"="+strconv.Itoa(os.Getpid()))
	require.NoError(t, cmd.Start())
	pid := cmd.Process.Pid
	t.Cleanup(func() {
		kids := childPIDs(pid)
		syscall.Kill(pid, syscall.SIGKILL)
		for _, k := range kids {
			syscall.Kill(k, syscall.SIGKILL)
		}
		cmd.Wait()
		out.Close()
	})
	return cmd
}

// waitFor polls cond (testenv.Eventually) until it holds or d has passed.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	testenv.Eventually(t, d, what, func() (bool, string) { return cond(), "still not so" })
}

func showInfo(t *testing.T, sock string) map[string]string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	info, err := admin.ShowInfo(ctx, sock)
	require.NoError(t, err)
	return info
}

func waitReady(t *testing.T, sock string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	require.NoError(t, admin.WaitReady(ctx, sock))
}

func cmdline(pid int) []string {
	data, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "cmdline"))
	if err != nil {
		return nil
	}
	return strings.Split(strings.TrimRight(string(data), "\x00"), "\x00")
}
