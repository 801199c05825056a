//go:build linux

package hotreload

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/serve-launch/serve-launch/internal/proc/internal/proctest"
	"github.com/serve-launch/serve-launch/internal/proc/procfs"
	"github.com/serve-launch/serve-launch/internal/proc/state"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestShimExecsRealHAProxyAsMaster runs the whole shim flow in a real
// process: the PID "Ray" started becomes haproxy's master, runs the patched
// copy with -W, and Ray's reload argv (-sf/-x) through a second shim hands
// the listeners over and retires the first master.
func TestShimExecsRealHAProxyAsMaster(t *testing.T) {
	real := proctest.RealHAProxy(t)
	e := proctest.NewRayEnv(t)
	stateDir := filepath.Join(t.TempDir(), "state")

	first := proctest.StartShim(t, stateDir, "-db", "-f", e.Cfg, "-dR")
	pid := first.Process.Pid
	proctest.WaitReady(t, e.Sock())

	exe, err := os.Readlink("/proc/" + strconv.Itoa(pid) + "/exe")
	require.NoError(t, err)
	assert.Equal(t, real, exe, "the PID Ray started is now the real haproxy")
	patched := filepath.Join(stateDir, state.InstanceID([]string{e.Cfg}), state.PatchedFile)
	assert.Equal(t, []string{real, "-W", "-db", "-f", patched, "-dR"}, proctest.Cmdline(pid))

	info := proctest.ShowInfo(t, e.Sock())
	assert.Equal(t, "1500", info["Maxconn"], "haproxy runs the patched config")
	assert.NotEqual(t, strconv.Itoa(pid), info["Pid"], "show info answers from the worker, the shim PID is the master")

	s, err := state.OpenStateDir(stateDir)
	require.NoError(t, err)
	st, err := state.Status(s)
	require.NoError(t, err)
	require.Len(t, st, 1)
	assert.True(t, st[0].Alive)
	assert.Equal(t, pid, st[0].MasterPID)
	assert.Equal(t, os.Getpid(), st[0].LauncherPID)
	require.Len(t, st[0].WorkerPIDs, 1)
	assert.Equal(t, info["Pid"], strconv.Itoa(st[0].WorkerPIDs[0]))

	// Ray's reload: a new shim with -sf <old pid> -x <admin.sock>.
	second := proctest.StartShim(t, stateDir, "-db", "-f", e.Cfg, "-dR", "-sf", strconv.Itoa(pid), "-x", e.Sock())
	done := make(chan error, 1)
	go func() { done <- first.Wait() }()
	select {
	case err := <-done:
		require.NoError(t, err, "the old master exits 0 after the handover")
	case <-time.After(10 * time.Second):
		t.Fatal("old master did not exit after -sf")
	}
	proctest.WaitReady(t, e.Sock())
	st, err = state.Status(s)
	require.NoError(t, err)
	require.Len(t, st, 1)
	assert.Equal(t, second.Process.Pid, st[0].MasterPID)
	assert.True(t, st[0].Alive)

	// A hot reload of the master Ray's reload started (its argv has -sf and
	// -x, which haproxy drops when it re-execs itself).
	rep, err := ReloadAll(context.Background(), s, proctest.ReplacePatcher("maxconn 1000", "maxconn 1200"), ReloadScope{})
	require.NoError(t, err)
	require.Len(t, rep.Instances, 1)
	assert.Equal(t, OutcomeReloaded, rep.Instances[0].Outcome, rep.Instances[0].Detail)
	waitOldWorkersGone(t, rep.Instances[0].OldWorkers)
	assert.Equal(t, "1200", proctest.ShowInfo(t, e.Sock())["Maxconn"])
	assert.True(t, procfs.Alive(second.Process.Pid))
}

// TestShimPatchFailureStillStartsHAProxy checks what Ray sees when a
// snippet no longer matches: the PID it started becomes a haproxy that
// serves (never a process that exits, which Ray 2.55 may adopt as its
// haproxy and then fail every later reload on), with the failing snippet
// file left out and the others in force.
func TestShimPatchFailureStillStartsHAProxy(t *testing.T) {
	e := proctest.NewRayEnv(t)
	e.Extra = "#FAIL\n"
	e.Write(t)
	stateDir := filepath.Join(t.TempDir(), "state")
	cmd := proctest.StartShim(t, stateDir, "-db", "-f", e.Cfg, "-dR")
	proctest.WaitReady(t, e.Sock())
	info := proctest.ShowInfo(t, e.Sock())
	assert.Equal(t, "1500", info["Maxconn"], "the snippet that applies is in force")
	s, err := state.OpenStateDir(stateDir)
	require.NoError(t, err)
	st, err := state.Status(s)
	require.NoError(t, err)
	require.Len(t, st, 1)
	assert.Equal(t, cmd.Process.Pid, st[0].MasterPID)
	assert.Equal(t, state.StateDegraded, st[0].State, st[0].StateDetail)
	assert.Contains(t, st[0].StateDetail, "20-b.toml")
}
