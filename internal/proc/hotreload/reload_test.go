//go:build linux

package hotreload

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/serve-launch/serve-launch/internal/admin"
	"github.com/serve-launch/serve-launch/internal/proc/internal/proctest"
	"github.com/serve-launch/serve-launch/internal/proc/procfs"
	"github.com/serve-launch/serve-launch/internal/proc/shim"
	"github.com/serve-launch/serve-launch/internal/proc/state"
	"github.com/serve-launch/serve-launch/internal/testing/testenv"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// serverState returns one server's fields from `show servers state`, keyed
// by the header's column names.
func serverState(t *testing.T, sock, backend, server string) map[string]string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	out, err := admin.ShowServersState(ctx, sock)
	require.NoError(t, err)
	var header []string
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "# ") {
			header = strings.Fields(line[2:])
			continue
		}
		f := strings.Fields(line)
		if len(f) < 4 || f[1] != backend || f[3] != server {
			continue
		}
		m := map[string]string{}
		for i, h := range header {
			if i < len(f) {
				m[h] = f[i]
			}
		}
		return m
	}
	t.Fatalf("server %s/%s not in show servers state:\n%s", backend, server, out)
	return nil
}

func adminCmd(t *testing.T, sock, cmd string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	out, err := admin.Command(ctx, sock, cmd)
	require.NoError(t, err)
	return out
}

// TestReloadAll drives a real haproxy started through the shim: a hot
// reload re-patches from Ray's latest file, keeps the master PID, starts a
// new worker, and keeps the servers' runtime state; a candidate that fails
// `haproxy -c` or a patch error changes nothing; a dead master is pruned.
func TestReloadAll(t *testing.T) {
	e := proctest.NewRayEnv(t)
	stateDir := filepath.Join(t.TempDir(), "state")
	started := proctest.StartShim(t, stateDir, "-db", "-f", e.Cfg, "-dR")
	master := started.Process.Pid
	proctest.WaitReady(t, e.Sock())
	s, err := state.OpenStateDir(stateDir)
	require.NoError(t, err)
	ctx := context.Background()
	dir := filepath.Join(stateDir, state.InstanceID([]string{e.Cfg}))

	// Runtime changes that a reload must not lose.
	adminCmd(t, e.Sock(), "set server http-app/SERVE_REPLICA_1 weight 7")
	adminCmd(t, e.Sock(), "set server http-app/SERVE_REPLICA_1 state maint")
	// Ray rewrote its file meanwhile (a new backend), and the overrides changed.
	e.Extra = "backend http-extra\n    server SERVE_REPLICA_2 127.0.0.1:2\n"
	e.Write(t)
	oldWorker := proctest.ShowInfo(t, e.Sock())["Pid"]

	rep, err := ReloadAll(ctx, s, proctest.ReplacePatcher("maxconn 1000", "maxconn 1700"), ReloadScope{})
	require.NoError(t, err)
	require.Len(t, rep.Instances, 1)
	r := rep.Instances[0]
	assert.Equal(t, OutcomeReloaded, r.Outcome, r.Detail)
	assert.Equal(t, master, r.MasterPID)
	assert.Equal(t, filepath.Join(e.Dir, "server-state"), r.ServerStateSaved)
	require.NotEmpty(t, r.NewWorkers)

	waitOldWorkersGone(t, r.OldWorkers)
	info := proctest.ShowInfo(t, e.Sock())
	assert.Equal(t, "1700", info["Maxconn"], "the new worker runs the re-patched config")
	assert.NotEqual(t, oldWorker, info["Pid"])
	assert.True(t, procfs.Alive(master), "same master PID")
	assert.Contains(t, adminCmd(t, e.Sock(), "show stat"), "http-extra", "Ray's latest file was used")
	st := serverState(t, e.Sock(), "http-app", "SERVE_REPLICA_1")
	assert.Equal(t, "7", st["srv_uweight"], "weight survives the reload")
	assert.Equal(t, "1", st["srv_admin_state"], "maintenance survives the reload")
	in, err := s.LoadInstance(dir)
	require.NoError(t, err)
	assert.Equal(t, state.ResultPatched, in.Result)
	ev, err := state.ReadEvents(dir)
	require.NoError(t, err)
	assert.Equal(t, state.ResultPatched, ev.HotReload.Result)
	assert.Equal(t, state.EventHotReload, ev.HotReload.Kind)
	assert.Equal(t, in.Seq, ev.Seq)

	t.Run("unchanged does not reload", func(t *testing.T) {
		rep, err := ReloadAll(ctx, s, proctest.ReplacePatcher("maxconn 1000", "maxconn 1700"), ReloadScope{})
		require.NoError(t, err)
		assert.Equal(t, OutcomeUnchanged, rep.Instances[0].Outcome)
	})

	t.Run("a candidate haproxy could not check changes nothing", func(t *testing.T) {
		before, err := os.ReadFile(filepath.Join(dir, state.PatchedFile))
		require.NoError(t, err)
		worker := proctest.ShowInfo(t, e.Sock())["Pid"]
		unchecked := func(ctx context.Context, req shim.PatchRequest) shim.PatchResult {
			r := proctest.ReplacePatcher("maxconn 1000", "maxconn 1800")(ctx, req)
			r.Checked, r.CheckError = "", "running haproxy -c: context deadline exceeded"
			return r
		}
		rep, err := ReloadAll(ctx, s, unchecked, ReloadScope{})
		require.Error(t, err)
		assert.Equal(t, OutcomeFailed, rep.Instances[0].Outcome)
		assert.Contains(t, err.Error(), "could not be checked with haproxy -c (running haproxy -c: context deadline exceeded)")
		after, err := os.ReadFile(filepath.Join(dir, state.PatchedFile))
		require.NoError(t, err)
		assert.Equal(t, string(before), string(after))
		assert.Equal(t, worker, proctest.ShowInfo(t, e.Sock())["Pid"], "no reload happened")
		in, err := s.LoadInstance(dir)
		require.NoError(t, err)
		assert.Equal(t, state.ResultPatched, in.Result, "what runs did not change")
		assert.Contains(t, in.LastError, "could not be checked")
		ev, err := state.ReadEvents(dir)
		require.NoError(t, err)
		assert.Equal(t, state.ResultFailed, ev.HotReload.Result)
	})

	// The user puts back the overrides haproxy runs: nothing to reload, and
	// status must stop reporting the failure they have undone.
	t.Run("overrides put back clear the failure", func(t *testing.T) {
		worker := proctest.ShowInfo(t, e.Sock())["Pid"]
		rep, err := ReloadAll(ctx, s, proctest.ReplacePatcher("maxconn 1000", "maxconn 1700"), ReloadScope{})
		require.NoError(t, err)
		assert.Equal(t, OutcomeUnchanged, rep.Instances[0].Outcome)
		assert.Equal(t, "already runs these overrides; the failure on record is cleared", rep.Instances[0].Detail, "the launcher says so")
		assert.Equal(t, worker, proctest.ShowInfo(t, e.Sock())["Pid"], "no reload happened")
		in, err := s.LoadInstance(dir)
		require.NoError(t, err)
		assert.Equal(t, state.ResultPatched, in.Result)
		assert.Empty(t, in.LastError)
		assert.Equal(t, proctest.TestSnippets, in.Snippets)
		ev, err := state.ReadEvents(dir)
		require.NoError(t, err)
		assert.Equal(t, state.ResultUnchanged, ev.HotReload.Result, "nothing was reloaded")
		assert.Equal(t, uint64(1), ev.Counts[state.EventHotReload+" "+state.ResultUnchanged])
	})

	// Several launchers can share a state dir: a launcher's hot reload
	// leaves another's haproxy alone.
	t.Run("out of scope changes nothing", func(t *testing.T) {
		before, err := os.ReadFile(filepath.Join(dir, state.PatchedFile))
		require.NoError(t, err)
		worker := proctest.ShowInfo(t, e.Sock())["Pid"]
		rep, err := ReloadAll(ctx, s, proctest.ReplacePatcher("maxconn 1000", "maxconn 1900"), ReloadScope{LauncherPID: os.Getpid() + 1})
		require.NoError(t, err)
		assert.Empty(t, rep.Instances, "another launcher's haproxy is not even reported")
		rep, err = ReloadAll(ctx, s, proctest.ReplacePatcher("maxconn 1000", "maxconn 1700"), ReloadScope{LauncherPID: os.Getpid()})
		require.NoError(t, err)
		require.Len(t, rep.Instances, 1, "its own launcher's reload takes it")
		assert.Equal(t, OutcomeUnchanged, rep.Instances[0].Outcome, rep.Instances[0].Detail)

		after, err := os.ReadFile(filepath.Join(dir, state.PatchedFile))
		require.NoError(t, err)
		assert.Equal(t, string(before), string(after))
		assert.Equal(t, worker, proctest.ShowInfo(t, e.Sock())["Pid"], "no reload happened")
	})

	// A hot reload is all or nothing: unlike a start, it leaves haproxy
	// as it is rather than run without a snippet file.
	t.Run("a failing snippet file refuses the hot reload", func(t *testing.T) {
		e.Extra = "#FAIL\n"
		e.Write(t)
		worker := proctest.ShowInfo(t, e.Sock())["Pid"]
		before, err := os.ReadFile(filepath.Join(dir, state.PatchedFile))
		require.NoError(t, err)
		rep, err := ReloadAll(ctx, s, proctest.TestPatcher, ReloadScope{})
		require.Error(t, err)
		assert.Contains(t, err.Error(), "20-b.toml:4")
		assert.Equal(t, OutcomeFailed, rep.Instances[0].Outcome)
		assert.Equal(t, worker, proctest.ShowInfo(t, e.Sock())["Pid"], "no reload happened")
		after, err := os.ReadFile(filepath.Join(dir, state.PatchedFile))
		require.NoError(t, err)
		assert.Equal(t, string(before), string(after))
		ev, err := state.ReadEvents(dir)
		require.NoError(t, err)
		assert.Equal(t, state.ResultFailed, ev.HotReload.Result)
		assert.Contains(t, ev.HotReload.Error, "20-b.toml:4")
	})

	t.Run("dead master is pruned", func(t *testing.T) {
		require.NoError(t, syscall.Kill(master, syscall.SIGKILL))
		proctest.WaitFor(t, 10*time.Second, "master to die", func() bool { return !procfs.Alive(master) })
		rep, err := ReloadAll(ctx, s, proctest.TestPatcher, ReloadScope{LauncherPID: os.Getpid() + 1})
		require.NoError(t, err)
		assert.Empty(t, rep.Instances)
		assert.DirExists(t, dir, "another launcher's record is its to prune")
		rep, err = ReloadAll(ctx, s, proctest.TestPatcher, ReloadScope{})
		require.NoError(t, err)
		require.Len(t, rep.Instances, 1)
		assert.Equal(t, OutcomePruned, rep.Instances[0].Outcome)
		assert.NoDirExists(t, dir)
	})
}

// waitOldWorkersGone waits, bounded, for the workers a reload replaced to
// exit. ReloadAll returns once a new worker has answered `show info`, but an
// old one shares the admin socket's listener until its soft stop closes it,
// so the next command may still be answered by the old config. Nothing holds
// the old workers here (no client connections), so they exit soon after.
func waitOldWorkersGone(t *testing.T, old []int) {
	t.Helper()
	proctest.WaitFor(t, 10*time.Second, fmt.Sprintf("old workers %v to exit", old), func() bool {
		for _, p := range old {
			if procfs.Alive(p) {
				return false
			}
		}
		return true
	})
}

// TestReloadDrainsRayPipes plays Ray 2.55, which gives haproxy pipes for
// stdout and stderr and never reads them: a hot reload's messages end up in
// shim.log instead of piling up in the pipe until haproxy blocks.
func TestReloadDrainsRayPipes(t *testing.T) {
	e := proctest.NewRayEnv(t)
	stateDir := filepath.Join(t.TempDir(), "state")
	r, w, err := os.Pipe()
	require.NoError(t, err)
	t.Cleanup(func() { r.Close() }) // held open and never read, like Ray
	started := proctest.StartShimOutput(t, stateDir, w, "-db", "-f", e.Cfg, "-dR")
	w.Close()
	proctest.WaitReady(t, e.Sock())
	s, err := state.OpenStateDir(stateDir)
	require.NoError(t, err)

	rep, err := ReloadAll(context.Background(), s, proctest.ReplacePatcher("maxconn 1000", "maxconn 1100"), ReloadScope{})
	require.NoError(t, err)
	require.Equal(t, OutcomeReloaded, rep.Instances[0].Outcome)
	log, err := os.ReadFile(filepath.Join(stateDir, state.InstanceID([]string{e.Cfg}), state.ShimLogFile))
	require.NoError(t, err)
	assert.Contains(t, string(log), "Reloading HAProxy", "the master's reload notice was drained into shim.log")
	assert.True(t, procfs.Alive(started.Process.Pid))
}

// TestReloadWaitsForAStartingMaster: a master Ray's reload exec'd a moment
// ago may not handle SIGUSR2 yet (its default action ends a process), so a
// hot reload signals it only once it has forked its worker; after the
// bound it gives up, leaving the master and patched.cfg alone.
func TestReloadWaitsForAStartingMaster(t *testing.T) {
	e := proctest.NewRayEnv(t)
	stateDir := filepath.Join(t.TempDir(), "state")
	proctest.StartShim(t, stateDir, "-db", "-f", e.Cfg, "-dR")
	proctest.WaitReady(t, e.Sock())
	s, err := state.OpenStateDir(stateDir)
	require.NoError(t, err)
	dir := filepath.Join(stateDir, state.InstanceID([]string{e.Cfg}))
	rec, err := s.LoadInstance(dir)
	require.NoError(t, err)
	before, err := os.ReadFile(rec.Patched)
	require.NoError(t, err)

	// The record now names a master still starting: its argv names the
	// patched file and -W, and until released it has no worker and no
	// SIGUSR2 handler (haproxy installs it once its worker is up).
	starting, release := proctest.StartBlocked(t, nil, "sh", "-c", "read x; trap 'exit 0' USR2; sleep 60 & wait", rec.Patched, "-W")
	rec.MasterPID = starting
	require.NoError(t, s.SaveInstance(dir, rec))

	t.Run("still starting: not signalled", func(t *testing.T) {
		rep, err := ReloadAll(context.Background(), s, proctest.ReplacePatcher("maxconn 1000", "maxconn 1100"), ReloadScope{})
		require.Error(t, err)
		require.Len(t, rep.Instances, 1)
		assert.Equal(t, OutcomeFailed, rep.Instances[0].Outcome)
		assert.Contains(t, err.Error(), fmt.Sprintf("haproxy master %d is still starting after %s", starting, reloadStartWait))
		assert.True(t, procfs.Alive(starting), "a SIGUSR2 would have ended it")
		after, err := os.ReadFile(rec.Patched)
		require.NoError(t, err)
		assert.Equal(t, string(before), string(after), "patched.cfg is not replaced")
	})
	t.Run("started: signalled", func(t *testing.T) {
		release()
		proctest.WaitFor(t, 10*time.Second, "the worker", func() bool { return procfs.HasChild(starting) })
		// The stand-in cannot confirm a reload the way haproxy does; what
		// matters is that the wait is over and SIGUSR2 went out, which
		// ends sh (its trap exits).
		_, _ = ReloadAll(context.Background(), s, proctest.ReplacePatcher("maxconn 1000", "maxconn 1100"), ReloadScope{})
		proctest.WaitFor(t, 10*time.Second, "the stand-in master to get SIGUSR2", func() bool { return !procfs.Alive(starting) })
	})
}

// TestReloadFailedAfterWriteIsNotCleared: a reload that haproxy did not take
// after patched.cfg was written (here its new bind is taken, which
// `haproxy -c` cannot see) leaves haproxy on its old config. Asking again
// with the same overrides must reload, not find patched.cfg "unchanged" and
// clear the failure as if haproxy ran them.
func TestReloadFailedAfterWriteIsNotCleared(t *testing.T) {
	e := proctest.NewRayEnv(t)
	stateDir := filepath.Join(t.TempDir(), "state")
	proctest.StartShim(t, stateDir, "-db", "-f", e.Cfg, "-dR")
	proctest.WaitReady(t, e.Sock())
	s, err := state.OpenStateDir(stateDir)
	require.NoError(t, err)
	ctx := context.Background()
	dir := filepath.Join(stateDir, state.InstanceID([]string{e.Cfg}))

	// Not port 0: haproxy binds the port once busy closes (see
	// testenv.FreePort).
	busy, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t)))
	require.NoError(t, err)
	defer busy.Close()
	patcher := func(_ context.Context, req shim.PatchRequest) shim.PatchResult {
		return shim.PatchResult{Data: fmt.Appendf(append([]byte{}, req.Generated...), "frontend taken\n    bind %s\n", busy.Addr()), Checked: "haproxy -c"}
	}
	worker := proctest.ShowInfo(t, e.Sock())["Pid"]
	rep, err := ReloadAll(ctx, s, patcher, ReloadScope{})
	require.Error(t, err, "haproxy cannot bind the taken port")
	require.Len(t, rep.Instances, 1)
	require.Equal(t, OutcomeFailed, rep.Instances[0].Outcome)
	require.Equal(t, worker, proctest.ShowInfo(t, e.Sock())["Pid"], "haproxy kept its old worker")

	// The port is free again: the same overrides are tried anew, and take.
	require.NoError(t, busy.Close())
	rep, err = ReloadAll(ctx, s, patcher, ReloadScope{})
	require.Len(t, rep.Instances, 1)
	assert.Equal(t, OutcomeReloaded, rep.Instances[0].Outcome, "haproxy did not run these overrides: %s", rep.Instances[0].Detail)
	assert.NoError(t, err)
	assert.NotEmpty(t, rep.Instances[0].NewWorkers, "a new worker runs them")
	in, lerr := s.LoadInstance(dir)
	require.NoError(t, lerr)
	assert.Equal(t, state.ResultPatched, in.Result)
}
