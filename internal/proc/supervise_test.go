//go:build linux

package proc

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/serve-launch/serve-launch/internal/proc/internal/proctest"
	"github.com/serve-launch/serve-launch/internal/proc/procfs"
	"github.com/serve-launch/serve-launch/internal/proc/state"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type runResult struct {
	code int
	err  error
}

// supervise runs sh -c script under a Supervisor on a goroutine.
func supervise(t *testing.T, s *Supervisor, script string) <-chan runResult {
	t.Helper()
	sh, err := exec.LookPath("sh")
	require.NoError(t, err)
	s.Path, s.Args = sh, []string{"sh", "-c", script}
	if s.Stderr == nil {
		// The shell reports the signals that killed its commands; keep that out of the test log.
		f, err := os.Create(filepath.Join(t.TempDir(), "stderr"))
		require.NoError(t, err)
		t.Cleanup(func() { f.Close() })
		s.Stderr = f
	}
	res := make(chan runResult, 1)
	go func() {
		code, err := s.Run(context.Background())
		res <- runResult{code, err}
	}()
	return res
}

func waitResult(t *testing.T, res <-chan runResult) runResult {
	t.Helper()
	select {
	case r := <-res:
		return r
	case <-time.After(20 * time.Second):
		t.Fatal("supervisor did not return")
		return runResult{}
	}
}

// waitFile waits for a file the child writes to say it is ready.
func waitFile(t *testing.T, path string) string {
	t.Helper()
	var data []byte
	proctest.WaitFor(t, 10*time.Second, path, func() bool {
		var err error
		data, err = os.ReadFile(path)
		return err == nil && strings.HasSuffix(string(data), "\n")
	})
	return strings.TrimSpace(string(data))
}

func TestSupervisorExitCodes(t *testing.T) {
	tests := []struct {
		name   string
		script string
		want   int
	}{
		{name: "success", script: "exit 0", want: 0},
		{name: "exit 3", script: "exit 3", want: 3},
		{name: "killed by SIGTERM", script: "kill -TERM $$", want: 143},
		{name: "killed by SIGKILL", script: "kill -KILL $$", want: 137},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := waitResult(t, supervise(t, &Supervisor{}, tt.script))
			require.NoError(t, r.err)
			assert.Equal(t, tt.want, r.code)
		})
	}
}

func TestSupervisorStartFailure(t *testing.T) {
	s := &Supervisor{Path: "/nonexistent/serve", Args: []string{"serve"}}
	code, err := s.Run(context.Background())
	require.Error(t, err)
	assert.Equal(t, 127, code)
	assert.Contains(t, err.Error(), "/nonexistent/serve")
}

// TestSupervisorForwardsSignals sends real signals to the test process (the
// launcher) and checks the child's whole process group receives them.
func TestSupervisorForwardsSignals(t *testing.T) {
	tests := []struct {
		sig   syscall.Signal
		name  string
		grand bool // POSIX shells ignore INT and QUIT in background jobs, so only TERM and HUP can be seen there
	}{
		{syscall.SIGTERM, "TERM", true},
		{syscall.SIGINT, "INT", false},
		{syscall.SIGQUIT, "QUIT", false},
		{syscall.SIGHUP, "HUP", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			ready, got := filepath.Join(dir, "ready"), filepath.Join(dir, "got")
			grandReady, grand := filepath.Join(dir, "grand-ready"), filepath.Join(dir, "grand")
			// A grandchild in the same group records the signal too.
			// The child waits for the grandchild before exiting, since the
			// supervisor kills the rest of the group once the child is gone.
			wait := ""
			if tt.grand {
				wait = "wait $G; "
			}
			script := `trap 'echo ` + tt.name + ` > ` + got + `; ` + wait + `exit 5' ` + tt.name + `
sh -c "trap 'echo ` + tt.name + ` > ` + grand + `; exit 0' ` + tt.name + `; echo ready > ` + grandReady + `; while :; do sleep 0.05; done" &
G=$!
echo ready > ` + ready + `
while :; do sleep 0.05; done`
			res := supervise(t, &Supervisor{GracePeriod: 10 * time.Second}, script)
			waitFile(t, ready)
			waitFile(t, grandReady)
			require.NoError(t, syscall.Kill(os.Getpid(), tt.sig))
			r := waitResult(t, res)
			require.NoError(t, r.err)
			assert.Equal(t, 5, r.code, "the child's own exit status")
			assert.Equal(t, tt.name, waitFile(t, got))
			if tt.grand {
				assert.Equal(t, tt.name, waitFile(t, grand))
			}
		})
	}
}

func TestSupervisorSIGHUPReloads(t *testing.T) {
	dir := t.TempDir()
	ready := filepath.Join(dir, "ready")
	reloaded := make(chan struct{}, 4)
	s := &Supervisor{OnReload: func() { reloaded <- struct{}{} }}
	// The child exits 7 on SIGHUP, so forwarding would show in the exit code.
	res := supervise(t, s, `trap 'exit 7' HUP; echo ready > `+ready+`; while [ ! -e `+dir+`/stop ]; do sleep 0.05; done`)
	waitFile(t, ready)
	require.NoError(t, syscall.Kill(os.Getpid(), syscall.SIGHUP))
	select {
	case <-reloaded:
	case <-time.After(10 * time.Second):
		t.Fatal("SIGHUP did not call OnReload")
	}
	proctest.WriteFile(t, filepath.Join(dir, "stop"), "")
	r := waitResult(t, res)
	require.NoError(t, r.err)
	assert.Equal(t, 0, r.code, "SIGHUP was not forwarded")
}

func TestSupervisorGraceThenKill(t *testing.T) {
	dir := t.TempDir()
	ready := filepath.Join(dir, "ready")
	start := time.Now()
	res := supervise(t, &Supervisor{GracePeriod: 300 * time.Millisecond},
		`trap '' TERM; echo ready > `+ready+`; while :; do sleep 0.05; done`)
	waitFile(t, ready)
	require.NoError(t, syscall.Kill(os.Getpid(), syscall.SIGTERM))
	r := waitResult(t, res)
	require.NoError(t, r.err)
	assert.Equal(t, 137, r.code, "SIGKILL after the grace period")
	assert.GreaterOrEqual(t, time.Since(start), 300*time.Millisecond)
}

func TestSupervisorContextCancel(t *testing.T) {
	dir := t.TempDir()
	ready := filepath.Join(dir, "ready")
	sh, err := exec.LookPath("sh")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	s := &Supervisor{Path: sh, Args: []string{"sh", "-c", `echo ready > ` + ready + `; while :; do sleep 0.05; done`}}
	res := make(chan runResult, 1)
	go func() {
		code, err := s.Run(ctx)
		res <- runResult{code, err}
	}()
	waitFile(t, ready)
	cancel()
	r := waitResult(t, res)
	require.NoError(t, r.err)
	assert.Equal(t, 143, r.code)
}

// TestSupervisorLeavesNoOrphans: a background process in the child's group,
// a setsid'd daemon (reparented to the supervisor as subreaper) and a
// haproxy recorded in the state dir under this launcher's PID (outside our
// tree altogether) are all gone when Run returns.
func TestSupervisorLeavesNoOrphans(t *testing.T) {
	real := proctest.RealHAProxy(t)
	dir := t.TempDir()
	e := proctest.NewRayEnv(t)

	// A haproxy master + worker that is not our descendant: started through
	// a shell that exits at once, so it is reparented away from us.
	pidFile := filepath.Join(dir, "haproxy.pid")
	out, err := exec.Command("sh", "-c", `setsid `+real+` -W -db -f `+e.Cfg+` >/dev/null 2>&1 </dev/null & echo $! > `+pidFile).CombinedOutput()
	require.NoError(t, err, string(out))
	master, err := strconv.Atoi(waitFile(t, pidFile))
	require.NoError(t, err)
	t.Cleanup(func() { syscall.Kill(master, syscall.SIGKILL) })
	proctest.WaitReady(t, e.Sock())
	workers := procfs.Children(master)
	require.NotEmpty(t, workers)
	t.Cleanup(func() {
		for _, w := range workers {
			syscall.Kill(w, syscall.SIGKILL)
		}
	})
	sd, err := state.OpenStateDir(filepath.Join(dir, "state"))
	require.NoError(t, err)
	idir, err := sd.InstanceDir(state.InstanceID([]string{e.Cfg}))
	require.NoError(t, err)
	require.NoError(t, sd.SaveInstance(idir, &state.Instance{MasterPID: master, LauncherPID: os.Getpid(), Running: []string{e.Cfg}, Generated: e.Cfg}))
	// An unreadable record beside it must not spare it.
	bad, err := sd.InstanceDir("0000000000000000")
	require.NoError(t, err)
	require.NoError(t, sd.WriteFile(bad, state.InstanceFile, []byte("{")))

	bg, daemon, ready := filepath.Join(dir, "bg"), filepath.Join(dir, "daemon"), filepath.Join(dir, "ready")
	script := `sleep 300 & echo $! > ` + bg + `
setsid sleep 301 & echo $! > ` + daemon + `
echo ready > ` + ready + `
exit 4`
	r := waitResult(t, supervise(t, &Supervisor{StateDir: sd}, script))
	require.NoError(t, r.err)
	assert.Equal(t, 4, r.code)

	for _, f := range []string{bg, daemon} {
		pid, err := strconv.Atoi(waitFile(t, f))
		require.NoError(t, err)
		t.Cleanup(func() { syscall.Kill(pid, syscall.SIGKILL) })
		assert.False(t, procfs.Alive(pid), "%s (pid %d) still running", filepath.Base(f), pid)
		_, err = os.Stat("/proc/" + strconv.Itoa(pid))
		assert.True(t, os.IsNotExist(err), "%s (pid %d) not reaped", filepath.Base(f), pid)
	}
	proctest.WaitFor(t, 10*time.Second, "haproxy master and worker to die", func() bool {
		if procfs.Alive(master) {
			return false
		}
		for _, w := range workers {
			if procfs.Alive(w) {
				return false
			}
		}
		return true
	})
}
