package testenv

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Launch describes one `serve-launch run -- raysim ...` under test. The
// zero value is a launcher with the repository's overrides.d over one
// application of two replicas.
type Launch struct {
	// Apps and Replicas are raysim's -apps and -replicas (0: 1 and 2).
	Apps, Replicas int
	// LauncherFlags are added to `serve-launch run`, before "--".
	LauncherFlags []string
	// RaysimFlags are added to raysim's flags.
	RaysimFlags []string
	// Overrides, when set, edits the private copy of overrides.d before start.
	Overrides func(dir string)
	// Env is added to the environment after RayEnv.
	Env []string
	// Direct runs raysim without the launcher, on the real haproxy (a
	// baseline: what Ray alone does).
	Direct bool
	// Ready is the output line to wait for (default: raysim's ready line).
	Ready string
	// LogOutput logs the launcher's output when the test ends even if it
	// passed (it is always logged when the test failed).
	LogOutput bool
}

// Launched is a started Launch: where its files and ports are, its process
// and its output. Everything lives below Dir, the test's temp dir.
type Launched struct {
	Dir, StateDir, OverridesDir      string
	CfgFile, Socket, StatusFile      string
	HTTPPort, StatsPort, MetricsPort int
	// Env is RayEnv(Dir): pass it to other serve-launch commands (reload,
	// status) so they see the same Ray settings.
	Env     []string
	Cmd     *exec.Cmd
	Log     *LineLog
	Exited  <-chan struct{} // closed once Cmd has been waited for
	Started time.Time
}

// RayEnv is Ray Serve's haproxy settings for a run in dir: every path in
// dir/ray, a maxconn the machine's 20000-fd limit allows, and a short
// hard-stop-after so stopped tests leave no old haproxy for long.
func RayEnv(dir string) []string {
	ray := filepath.Join(dir, "ray")
	return []string{
		"RAY_SERVE_HAPROXY_MAXCONN=2000",
		"RAY_SERVE_HAPROXY_CONFIG_FILE_LOC=" + filepath.Join(ray, "haproxy.cfg"),
		"RAY_SERVE_HAPROXY_SOCKET_PATH=" + filepath.Join(ray, "admin.sock"),
		"RAY_SERVE_HAPROXY_SERVER_STATE_BASE=" + ray,
		"RAY_SERVE_HAPROXY_SERVER_STATE_FILE=" + filepath.Join(ray, "server-state"),
		"RAY_SERVE_HAPROXY_HARD_STOP_AFTER_S=10",
	}
}

// Start runs `serve-launch run -- raysim ...` from bins on the real haproxy
// with free ports and a private copy of overrides.d in a new temp dir, and
// waits, bounded, for the ready line on its output (raysim writes through
// the launcher). t.Cleanup stops it and everything it started.
func Start(t *testing.T, bins Binaries, o Launch) *Launched {
	t.Helper()
	real := HAProxy(t)
	if o.Apps == 0 {
		o.Apps = 1
	}
	if o.Replicas == 0 {
		o.Replicas = 2
	}
	dir := t.TempDir()
	l := &Launched{
		Dir:          dir,
		StateDir:     filepath.Join(dir, "state"),
		OverridesDir: filepath.Join(dir, "overrides.d"),
		CfgFile:      filepath.Join(dir, "ray", "haproxy.cfg"),
		Socket:       filepath.Join(dir, "ray", "admin.sock"),
		StatusFile:   filepath.Join(dir, "status.json"),
		HTTPPort:     FreePort(t), StatsPort: FreePort(t), MetricsPort: FreePort(t),
		Env: RayEnv(dir),
		Log: NewLineLog(),
	}
	CopyOverrides(t, l.OverridesDir)
	if o.Overrides != nil {
		o.Overrides(l.OverridesDir)
	}
	args := []string{"run", "--state-dir", l.StateDir, "--overrides", l.OverridesDir,
		"--haproxy", real, "--grace-period", "3s"}
	args = append(args, o.LauncherFlags...)
	args = append(args, "--", bins.Raysim(),
		"-apps", strconv.Itoa(o.Apps), "-replicas", strconv.Itoa(o.Replicas),
		"-http-port", strconv.Itoa(l.HTTPPort), "-stats-port", strconv.Itoa(l.StatsPort),
		"-metrics-port", strconv.Itoa(l.MetricsPort), "-status-file", l.StatusFile)
	args = append(args, o.RaysimFlags...)
	cmd := exec.Command(bins.Launcher(), args...)
	cmd.Env = os.Environ()
	if o.Direct {
		i := slices.Index(args, "--")
		cmd = exec.Command(args[i+1], args[i+2:]...)
		cmd.Env = append(os.Environ(), "RAY_SERVE_HAPROXY_BINARY_PATH="+real)
	}
	cmd.Env = append(cmd.Env, l.Env...)
	cmd.Env = append(cmd.Env, o.Env...)
	// Our own pipe rather than StderrPipe: raysim inherits the write end, so
	// the reader sees EOF only once every holder has gone, and Wait does not
	// close it under the reader.
	pr, pw, err := os.Pipe()
	require.NoError(t, err)
	cmd.Stdout, cmd.Stderr = pw, pw
	l.Started = time.Now()
	require.NoError(t, cmd.Start())
	pw.Close()
	l.Cmd = cmd
	go l.Log.Read(pr)
	exited := make(chan struct{})
	l.Exited = exited
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() { l.stop(t, o.LogOutput) })

	ready := o.Ready
	if ready == "" {
		ready = "raysim: ready http="
	}
	l.Log.WaitFor(t, 0, ready, 30*time.Second)
	return l
}

// stop ends the launcher unless it has exited (SIGTERM, then SIGKILL after a
// bounded wait), then SIGKILLs whatever is left whose command line names
// the test's directory, and logs the launcher's output when the test failed
// or always is set.
func (l *Launched) stop(t *testing.T, always bool) {
	select {
	case <-l.Exited:
	default:
		_ = l.Cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-l.Exited:
		case <-time.After(10 * time.Second):
			_ = l.Cmd.Process.Kill()
			<-l.Exited
		}
	}
	KillMentioning(l.Dir)
	if t.Failed() || always {
		t.Logf("launcher output:\n%s", strings.Join(l.Log.All(), "\n"))
	}
}

// CopyOverrides copies the repository's overrides.d (its files, not its
// subdirectories) into dir, creating dir.
func CopyOverrides(t testing.TB, dir string) {
	t.Helper()
	root, err := moduleRoot()
	require.NoError(t, err)
	src := filepath.Join(root, "overrides.d")
	ents, err := os.ReadDir(src)
	require.NoError(t, err, "the repository's overrides.d")
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

// moduleRoot is the nearest directory at or above the working directory
// (`go test` runs a package's tests in its own directory) holding go.mod.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		up := filepath.Dir(dir)
		if up == dir {
			return "", errors.New("no go.mod at or above the working directory")
		}
		dir = up
	}
}

// WriteAtomic replaces path with content and mode by writing a temp file
// and renaming it over path, as editors and ConfigMaps do, so a watcher
// never reads half a file.
//
// The temp file is made in the parent of path's directory (the same file
// system), not beside path: then the directory, which the launcher watches
// with a 200 ms debounce, sees one event, the rename. With the temp file
// inside it, a pause of more than the debounce between writing and renaming
// (a loaded machine) runs one more hot reload, of the directory as it was
// before the change, inside the step a test is watching; after a refused
// change that reload prints the refusal again. (Package proc tests the
// watcher itself.)
func WriteAtomic(t testing.TB, path, content string, mode os.FileMode) {
	t.Helper()
	f, err := os.CreateTemp(filepath.Dir(filepath.Dir(path)), "."+filepath.Base(path)+".tmp*")
	require.NoError(t, err)
	tmp := f.Name()
	_, err = f.WriteString(content)
	require.NoError(t, errors.Join(err, f.Close()))
	require.NoError(t, os.Chmod(tmp, mode))
	require.NoError(t, os.Rename(tmp, path))
}
