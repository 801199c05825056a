package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/serve-launch/serve-launch/internal/proc/shim"
	"github.com/serve-launch/serve-launch/internal/proc/state"
	"github.com/serve-launch/serve-launch/internal/testing/testenv"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Scenario 2: 20 Ray-style reloads (a replica of app1 added or removed
// each time: new config, `-sf old -x sock`) under continuous load. No
// request fails, and every haproxy Ray starts carries the overrides.
//
// The short interval is on purpose. Ray 2.55 counts a reload as done as
// soon as `show info` answers on the admin socket, which the OLD process
// still does; at 250 ms, reload N+1 can then SIGUSR1 process N before N has
// sent its own -sf to N-1, and N-1 keeps serving its stale servers (503s
// once they are gone). That happens with plain haproxy too; the shim's -W
// start is slower, which widened the window, so the shim adds every older
// master of the same config to -sf. Without that, a run at 250 ms failed
// thousands of requests about half the time; Ray's #64063 (after 2.55)
// closes the gap by waiting for the new PID.
//
// At 20 ms Ray reloads faster than haproxy starts, so every reload's
// haproxy would start while the last one is still starting. With the -W
// the shim adds, a haproxy whose -x finds nothing binds afresh instead of
// exiting, and two starting at once left the admin socket path to a
// stopped process: every later Ray reload failed ("did not enter running
// state within 5s"), in 2 of 5 runs before the shim learnt to wait for the
// haproxy Ray names after -sf to finish starting (waitStarted in proc).
func TestReplicaChurnUnderLoad(t *testing.T) {
	for _, interval := range []time.Duration{250 * time.Millisecond, 20 * time.Millisecond} {
		t.Run(interval.String(), func(t *testing.T) { replicaChurn(t, interval) })
	}
}

func replicaChurn(t *testing.T, interval time.Duration) {
	const reloads = 20
	r := start(t, opts{apps: 2, replicas: 2, raysim: []string{
		"-churn", strconv.Itoa(reloads), "-churn-interval", interval.String(),
	}})
	from := r.Log.Len()
	began := time.Now()
	l := startLoad(t, []string{r.url("/app1"), r.url("/app2")}, 8, 60*time.Second, 1<<20)

	r.Log.WaitFor(t, from, "raysim: churn done:", 60*time.Second)
	churn := time.Since(began)
	ok, fail := l.stop()
	t.Logf("%d reloads in %s (%s per reload, %s pause included); %d requests, %d failed",
		reloads, churn.Round(time.Millisecond), (churn / reloads).Round(time.Millisecond), interval, ok, fail)
	assert.Zero(t, fail, "failed requests: %v", l.errors())
	assert.Greater(t, ok, int64(100), "the load ran")

	st := r.status(t)
	if inst := r.instance(t); inst.Dir != "" {
		b, err := os.ReadFile(filepath.Join(inst.Dir, state.ShimLogFile))
		require.NoError(t, err)
		t.Logf("reloads where the shim also stopped an older master Ray no longer named: %d",
			strings.Count(string(b), "older haproxy masters"))
		t.Logf("reloads where the shim waited for the last haproxy to finish starting: %d (%d gave up after %s)",
			strings.Count(string(b), "to finish starting"), strings.Count(string(b), "still starting after"), shim.StartWait)
	}
	assert.Equal(t, 1+reloads, st.Reloads, "the reload that brought the first routes, then the churn's")
	assert.Zero(t, st.ReloadFails, "raysim's reload failures: %s", st.LastError)
	_, done := r.Log.Find(from, "raysim: churn done:")
	assert.Contains(t, done, "20 reloads, 0 failed")

	// The haproxy serving now is the last one Ray started (once it has
	// taken the admin socket over: 2.55 does not wait for that), with the
	// overrides applied to the last generated config. With -W, `show info`
	// names the worker; its master is the PID Ray tracks.
	wantServers := 0
	var wantNames []string // "backend/server", as appServers keys them
	for _, a := range st.Apps {
		wantServers += len(a.Replicas)
		for _, rep := range a.Replicas {
			wantNames = append(wantNames, a.Backend+"/"+rep.Server)
		}
	}
	sort.Strings(wantNames)
	// Old workers share the admin socket's listener (-x) until their soft
	// stop ends, so one answer may come from an old process: poll until
	// the last one answers with the overrides applied to its servers.
	testenv.Eventually(t, 10*time.Second, "the last haproxy Ray started serves with the overrides", func() (bool, string) {
		// An answer may be slow while the old processes drain on a loaded
		// machine, and the old worker that gave it may exit right after:
		// a failed ask is one more try, within the bound.
		info, err := r.tryInfo()
		if err != nil {
			return false, err.Error()
		}
		master, err := masterOf(info)
		if err != nil {
			return false, err.Error()
		}
		if master != st.HAProxyPID {
			return false, fmt.Sprintf("show info answered by worker %s of %d, want a worker of %d", info["Pid"], master, st.HAProxyPID)
		}
		want := strconv.Itoa(512 * wantServers)
		if info["ConnRateLimit"] != want || info["SessRateLimit"] != want {
			return false, fmt.Sprintf("ConnRateLimit %s SessRateLimit %s, want %s (512 x %d servers)", info["ConnRateLimit"], info["SessRateLimit"], want, wantServers)
		}
		// show stat is a second connection, which an old worker may
		// answer; one of two reloads back has as many servers, so the
		// names (replica IDs never come back) tell the last config.
		servers, err := r.tryAppServers()
		if err != nil {
			return false, err.Error()
		}
		if len(servers) != wantServers {
			return false, fmt.Sprintf("%d servers in show stat, want %d", len(servers), wantServers)
		}
		names := make([]string, 0, len(servers))
		for name := range servers {
			names = append(names, name)
		}
		sort.Strings(names)
		if !slices.Equal(names, wantNames) {
			return false, fmt.Sprintf("servers in show stat %v, want Ray's last %v", names, wantNames)
		}
		if bad := slimMismatches(servers, "32"); len(bad) > 0 {
			return false, fmt.Sprint("want slim 32: ", bad)
		}
		return true, ""
	})
}
