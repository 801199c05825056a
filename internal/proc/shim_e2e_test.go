package proc

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestShimExecsRealHAProxyAsMaster runs the whole shim flow in a real
// process: the PID "Ray" started becomes haproxy's master, runs the patched
// copy with -W, and Ray's reload argv (-sf/-x) through a second shim hands
// the listeners over and retires the first master.
func TestShimExecsRealHAProxyAsMaster(t *testing.T) {
	real := realHAProxy(t)
	e := newRayEnv(t)
	state := filepath.Join(t.TempDir(), "state")

	first := startShim(t, state, "-db", "-f", e.cfg, "-dR")
	pid := first.Process.Pid
	waitReady(t, e.sock())

	exe, err := os.Readlink("/proc/" + strconv.Itoa(pid) + "/exe")
	require.NoError(t, err)
	assert.Equal(t, real, exe, "the PID Ray started is now the real haproxy")
	patched := filepath.Join(state, InstanceID([]string{e.cfg}), PatchedFile)
	assert.Equal(t, []string{real, "-W", "-db", "-f", patched, "-dR"}, cmdline(pid))

	info := showInfo(t, e.sock())
	assert.Equal(t, "1500", info["Maxconn"], "haproxy runs the patched config")
	assert.NotEqual(t, strconv.Itoa(pid), info["Pid"], "show info answers from the worker, the shim PID is the master")

	s, err := OpenStateDir(state)
	require.NoError(t, err)
	st, err := Status(s)
	require.NoError(t, err)
	require.Len(t, st, 1)
	assert.True(t, st[0].Alive)
	assert.Equal(t, pid, st[0].MasterPID)
	assert.Equal(t, os.Getpid(), st[0].LauncherPID)
	require.Len(t, st[0].WorkerPIDs, 1)
	assert.Equal(t, info["Pid"], strconv.Itoa(st[0].WorkerPIDs[0]))

	// Ray's reload: a new shim with -sf <old pid> -x <admin.sock>.
	second := startShim(t, state, "-db", "-f", e.cfg, "-dR", "-sf", strconv.Itoa(pid), "-x", e.sock())
	done := make(chan error, 1)
	go func() { done <- first.Wait() }()
	select {
	case err := <-done:
		require.NoError(t, err, "the old master exits 0 after the handover")
	case <-time.After(10 * time.Second):
		t.Fatal("old master did not exit after -sf")
	}
	waitReady(t, e.sock())
	st, err = Status(s)
	require.NoError(t, err)
	require.Len(t, st, 1)
	assert.Equal(t, second.Process.Pid, st[0].MasterPID)
	assert.True(t, st[0].Alive)

	// A hot reload of the master Ray's reload started (its argv has -sf and
	// -x, which haproxy drops when it re-execs itself).
	rep, err := ReloadAll(context.Background(), s, replacePatcher("maxconn 1000", "maxconn 1200"), ReloadScope{})
	require.NoError(t, err)
	require.Len(t, rep.Instances, 1)
	assert.Equal(t, OutcomeReloaded, rep.Instances[0].Outcome, rep.Instances[0].Detail)
	waitOldWorkersGone(t, rep.Instances[0].OldWorkers)
	assert.Equal(t, "1200", showInfo(t, e.sock())["Maxconn"])
	assert.True(t, pidAlive(second.Process.Pid))
}

// TestShimPatchFailureStillStartsHAProxy checks what Ray sees when a
// snippet no longer matches: the PID it started becomes a haproxy that
// serves (never a process that exits, which Ray 2.55 may adopt as its
// haproxy and then fail every later reload on), with the failing snippet
// file left out and the others in force.
func TestShimPatchFailureStillStartsHAProxy(t *testing.T) {
	e := newRayEnv(t)
	e.Extra = "#FAIL\n"
	e.write(t)
	state := filepath.Join(t.TempDir(), "state")
	cmd := startShim(t, state, "-db", "-f", e.cfg, "-dR")
	waitReady(t, e.sock())
	info := showInfo(t, e.sock())
	assert.Equal(t, "1500", info["Maxconn"], "the snippet that applies is in force")
	s, err := OpenStateDir(state)
	require.NoError(t, err)
	st, err := Status(s)
	require.NoError(t, err)
	require.Len(t, st, 1)
	assert.Equal(t, cmd.Process.Pid, st[0].MasterPID)
	assert.Equal(t, StateDegraded, st[0].State, st[0].StateDetail)
	assert.Contains(t, st[0].StateDetail, "20-b.toml")
}
