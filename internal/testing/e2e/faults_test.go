package e2e

import (
	"fmt"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/serve-launch/serve-launch/internal/testing/testenv"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Scenario 6: SIGKILL to the haproxy PID Ray tracks, to the launcher, or to
// the wrapped child (raysim, standing in for `serve run`): in every case no
// haproxy started under the launcher is left and the ports are free soon
// after. Nothing in a SIGKILLed process runs, so the cleanup must come from
// elsewhere: haproxy's workers exit with their master, the child and the
// haproxy the shim execs carry a parent-death signal (see package proc).
//
// "Soon" is a few to 25 ms here (the test logs it); the bound, faultBound,
// is generous so that a loaded CI machine never fails a run that cleaned
// up: what it tells apart is cleanup from none, which never comes.
func TestFaultsLeaveNothing(t *testing.T) {
	const faultBound = 10 * time.Second
	cases := []struct {
		name string
		// before runs ahead of the kill.
		before func(t *testing.T, r *run)
		victim func(t *testing.T, r *run) int
		// gone are the processes that must be gone too (beyond haproxy).
		launcherGone, childGone bool
	}{
		{name: "haproxy master", victim: func(t *testing.T, r *run) int { return r.status(t).HAProxyPID }},
		{name: "launcher", victim: func(t *testing.T, r *run) int { return r.Cmd.Process.Pid }, launcherGone: true, childGone: true},
		// haproxy's master re-execs itself on SIGUSR2: the parent-death
		// signal must survive that too.
		{name: "launcher after a hot reload", before: hotReloadOnce, victim: func(t *testing.T, r *run) int { return r.Cmd.Process.Pid }, launcherGone: true, childGone: true},
		{name: "wrapped child", victim: func(t *testing.T, r *run) int { return r.childPID(t) }, launcherGone: true, childGone: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := start(t, opts{apps: 1, replicas: 2})
			if c.before != nil {
				c.before(t, r)
			}
			st := r.status(t)
			child := r.childPID(t)
			haproxies := testenv.ProcessesMentioning(r.Dir, "haproxy")
			require.NotEmpty(t, haproxies, "haproxy processes before the kill")
			recorded := append(append([]int{}, st.LivePIDs...), haproxies...)

			victim := c.victim(t, r)
			require.True(t, testenv.Alive(victim), "victim %d runs", victim)
			killed := time.Now()
			require.NoError(t, syscall.Kill(victim, syscall.SIGKILL))

			assert.NoError(t, testenv.WaitGone(recorded, faultBound), "the haproxy PIDs recorded (%v)", recorded)
			testenv.Eventually(t, faultBound, "no haproxy whose command line names the test's state dir", func() (bool, string) {
				left := testenv.ProcessesMentioning(r.StateDir, "haproxy")
				return len(left) == 0, fmt.Sprintf("left: %v", left)
			})
			for _, port := range r.ports() {
				testenv.Eventually(t, faultBound, fmt.Sprintf("port %d free", port), func() (bool, string) {
					err := testenv.PortFree(port)
					return err == nil, fmt.Sprint(err)
				})
			}
			t.Logf("haproxy gone and ports free %s after SIGKILL to %s %d", time.Since(killed).Round(time.Millisecond), c.name, victim)
			if c.childGone {
				assert.NoError(t, testenv.WaitGone([]int{child}, faultBound), "the wrapped child")
			}
			if c.launcherGone {
				select {
				case <-r.Exited:
				case <-time.After(faultBound):
					t.Errorf("the launcher still runs %s after its child was killed", faultBound)
				}
			}
			if c.name == "wrapped child" {
				assert.Equal(t, 128+int(syscall.SIGKILL), r.Cmd.ProcessState.ExitCode(), "the launcher exits as its child did")
			}
		})
	}
}

// childPID finds the wrapped raysim: the process named raysim whose command
// line names this test's directory.
func (r *run) childPID(t *testing.T) int {
	t.Helper()
	pids := testenv.ProcessesMentioning(r.StatusFile, "raysim")
	require.Len(t, pids, 1, "one raysim under the launcher")
	return pids[0]
}

// hotReloadOnce changes maxconn to 16 and waits until haproxy serves it.
func hotReloadOnce(t *testing.T, r *run) {
	t.Helper()
	from := r.Log.Len()
	writeAtomic(t, filepath.Join(r.OverridesDir, "40-backends.toml"), fmt.Sprintf(backendsSnippet, "16"))
	_, line := r.Log.WaitFor(t, from, "reloaded haproxy", 20*time.Second, "error:")
	require.Contains(t, line, "reloaded haproxy")
	// The old worker may answer for a moment after the reload, slowly on
	// a loaded machine: a failed ask is one more try.
	testenv.Eventually(t, 10*time.Second, "slim 16", func() (bool, string) {
		rows, err := r.tryAppServers()
		if err != nil {
			return false, err.Error()
		}
		if bad := slimMismatches(rows, "16"); len(bad) > 0 {
			return false, fmt.Sprint("want slim 16: ", bad)
		}
		return true, ""
	})
}
