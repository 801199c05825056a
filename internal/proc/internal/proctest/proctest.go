//go:build linux

// Package proctest holds what the tests of the process packages share: a
// small config in Ray's shape, the test binary started as the shim (its
// TestMain calls [ShimMain] when [EnvShimMode] is set), stand-ins for the
// snippet engine, and processes stopped until released. Tests only.
package proctest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"text/template"
	"time"

	"github.com/serve-launch/serve-launch/internal/admin"
	"github.com/serve-launch/serve-launch/internal/patch/config"
	"github.com/serve-launch/serve-launch/internal/proc/procfs"
	"github.com/serve-launch/serve-launch/internal/proc/shim"
	"github.com/serve-launch/serve-launch/internal/proc/state"
	"github.com/serve-launch/serve-launch/internal/testing/testenv"
	"github.com/stretchr/testify/require"
)

// EnvShimMode switches the test binary into the shim: TestMain then runs
// shim.RunShim on os.Args[1:] instead of the tests, so a test can start "haproxy"
// as a real process whose PID must survive the exec into the real haproxy.
const EnvShimMode = "PROC_TEST_AS_SHIM"

// EnvBlockMode makes the test binary wait for its stdin to close and exit:
// a process running this executable, as a shim that has not exec'd yet does.
const EnvBlockMode = "PROC_TEST_BLOCK"

// ShimMain is the test binary's main when [EnvShimMode] is set: the shim,
// with [TestPatcher] as its snippet engine. A TestMain that starts shims
// runs it in place of the tests.
func ShimMain() int {
	launcher, _ := strconv.Atoi(os.Getenv(shim.EnvLauncherPID))
	err := shim.RunShim(context.Background(), shim.ShimConfig{
		Argv:        os.Args[1:],
		RealHAProxy: os.Getenv(shim.EnvRealHAProxy),
		StateDir:    os.Getenv(state.EnvStateDir),
		Patcher:     TestPatcher,
		LauncherPID: launcher,
	})
	fmt.Fprintf(os.Stderr, "serve-launch: error: %v\n", err)
	return 1
}

// TestPatcher stands in for the snippet engine in end-to-end tests: it
// raises the global maxconn from 1000 to 1500 (visible in `show info`) and
// quarantines a snippet file on a "#FAIL" line.
var TestPatcher = ReplacePatcher("maxconn 1000", "maxconn 1500")

// RealHAProxy returns the haproxy on PATH; tests that claim haproxy
// behaviour fail without it rather than skip.
func RealHAProxy(t *testing.T) string {
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

type RayEnv struct {
	Dir   string // Ray's config dir (socket, state file, config)
	Port  int
	Extra string
	// Cfg is Ray's config file.
	Cfg string
}

func NewRayEnv(t *testing.T) *RayEnv {
	// Short path: unix socket names are limited to 108 bytes.
	dir, err := os.MkdirTemp("", "ray")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	e := &RayEnv{Dir: dir, Port: testenv.FreePort(t), Cfg: filepath.Join(dir, "haproxy.cfg")}
	e.Write(t)
	return e
}

// Sock is the admin socket.
func (e *RayEnv) Sock() string { return filepath.Join(e.Dir, "admin.sock") }

// Write renders the config the way Ray does: under the exclusive lock, in place.
func (e *RayEnv) Write(t *testing.T) {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, rayConfig.Execute(&buf, e))
	lock, err := state.LockFile(e.Cfg+".lock", syscall.LOCK_EX, 5*time.Second, nil)
	require.NoError(t, err)
	defer lock.Close()
	require.NoError(t, os.WriteFile(e.Cfg, buf.Bytes(), 0o644))
}

// StartShim starts the test binary as the shim with Ray's argv and returns
// the process; cleanup SIGKILLs it and any worker left.
func StartShim(t *testing.T, stateDir string, argv ...string) *exec.Cmd {
	t.Helper()
	out, err := os.Create(filepath.Join(t.TempDir(), "haproxy.out"))
	require.NoError(t, err)
	return StartShimOutput(t, stateDir, out, argv...)
}

// StartShimOutput is StartShim with haproxy's stdout and stderr going to out
// (a pipe, to play Ray).
func StartShimOutput(t *testing.T, stateDir string, out *os.File, argv ...string) *exec.Cmd {
	t.Helper()
	exe, err := os.Executable()
	require.NoError(t, err)
	cmd := exec.Command(exe, argv...)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.Env = append(os.Environ(), EnvShimMode+"=1", state.EnvStateDir+"="+stateDir, shim.EnvRealHAProxy+"="+RealHAProxy(t),
		shim.EnvLauncherPID+"="+strconv.Itoa(os.Getpid()))
	require.NoError(t, cmd.Start())
	pid := cmd.Process.Pid
	t.Cleanup(func() {
		kids := procfs.Children(pid)
		syscall.Kill(pid, syscall.SIGKILL)
		for _, k := range kids {
			syscall.Kill(k, syscall.SIGKILL)
		}
		cmd.Wait()
		out.Close()
	})
	return cmd
}

// WaitFor polls cond (testenv.Eventually) until it holds or d has passed.
func WaitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	testenv.Eventually(t, d, what, func() (bool, string) { return cond(), "still not so" })
}

func ShowInfo(t *testing.T, sock string) map[string]string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	info, err := admin.ShowInfo(ctx, sock)
	require.NoError(t, err)
	return info
}

func WaitReady(t *testing.T, sock string) {
	t.Helper()
	testenv.EventuallyNoError(t, 5*time.Second, "show info answers on "+sock, func(ctx context.Context) error {
		_, err := admin.ShowInfo(ctx, sock)
		return err
	})
}

func Cmdline(pid int) []string {
	data, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "cmdline"))
	if err != nil {
		return nil
	}
	return strings.Split(strings.TrimRight(string(data), "\x00"), "\x00")
}

// ExecRecorder stands in for syscall.Exec: it records the call.
type ExecRecorder struct {
	Called bool
	Argv0  string
	Argv   []string
}

// Exec is the recorder's stand-in for syscall.Exec.
func (r *ExecRecorder) Exec(argv0 string, argv, env []string) error {
	r.Called, r.Argv0, r.Argv = true, argv0, argv
	return nil
}

// TestSnippets are the snippet files the test patchers report in force.
var TestSnippets = []state.Snippet{
	{Name: "10-a.toml", SHA256: strings.Repeat("a", 64)},
	{Name: "20-b.toml", SHA256: strings.Repeat("b", 64)},
}

// ReplacePatcher patches by replacing old with new; a generated file that
// contains "#FAIL" has a snippet file that no longer matches, which it
// quarantines (the other one applies) as the real patcher does. It says it
// checked the result with haproxy -c, which is the real patcher's job
// (package launch), not the shim's.
func ReplacePatcher(old, new string) shim.Patcher {
	return func(_ context.Context, req shim.PatchRequest) shim.PatchResult {
		data := []byte(strings.ReplaceAll(string(req.Generated), old, new))
		var facts config.Facts
		if f, err := config.Parse(req.Name, data); err == nil {
			facts = f.Facts()
		}
		if strings.Contains(string(req.Generated), "#FAIL") {
			return shim.PatchResult{Data: data, Snippets: TestSnippets[:1], Checked: "haproxy -c", Facts: facts, Quarantined: []state.QuarantinedSnippet{
				{Name: "20-b.toml", Error: "20-b.toml:4: section \"backend *\" matches nothing in " + req.Name}}}
		}
		return shim.PatchResult{Data: data, Snippets: TestSnippets, Checked: "haproxy -c", Facts: facts}
	}
}

func FakeHAProxy(t *testing.T) string {
	p := filepath.Join(t.TempDir(), "haproxy")
	WriteFile(t, p, "#!/bin/sh\nexit 0\n")
	require.NoError(t, os.Chmod(p, 0o755))
	return p
}

// StartBlocked starts argv, in its own process group, stopped at reading its
// stdin: release writes a line to it (sh's `read` returns) and closes it.
func StartBlocked(t *testing.T, env []string, argv ...string) (pid int, release func()) {
	t.Helper()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), env...)
	in, err := cmd.StdinPipe()
	require.NoError(t, err)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	require.NoError(t, cmd.Start())
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
	})
	// Start returns once the exec has begun (it closes the close-on-exec
	// pipe Start waits on), but the kernel sets the new command line a
	// moment later: until then /proc/PID/Cmdline reads empty, so the
	// process does not name its file yet, and under load a test read it in
	// that window (TestOlderMastersSkipsShims, 9 runs in 300). Wait,
	// bounded, until it reads argv; the tests' assertions read it too.
	pid = cmd.Process.Pid
	testenv.Eventually(t, 10*time.Second, fmt.Sprintf("process %d to exec %q", pid, argv), func() (bool, string) {
		got := procfs.Args(pid)
		return slices.Equal(got, argv), fmt.Sprintf("its command line is %q", got)
	})
	return pid, func() {
		in.Write([]byte("go\n"))
		in.Close()
	}
}

// TestWaitStarted: a reload's shim waits for the haproxy it replaces while
// that is a shim not yet exec'd or a -W master without its worker, and for
// nothing else.

func WriteFile(t *testing.T, path, data string) {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(t, os.WriteFile(path, []byte(data), 0o644))
}

// Main is the TestMain of a package whose tests start the test binary as
// the shim ([EnvShimMode]) or as a process blocked on its stdin
// ([EnvBlockMode], a shim that has not exec'd yet); otherwise it runs the
// tests.
func Main(m *testing.M) {
	if os.Getenv(EnvShimMode) == "1" {
		os.Exit(ShimMain())
	}
	if os.Getenv(EnvBlockMode) == "1" {
		_, _ = io.Copy(io.Discard, os.Stdin)
		os.Exit(0)
	}
	os.Exit(m.Run())
}
