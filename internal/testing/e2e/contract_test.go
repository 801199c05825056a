package e2e

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/serve-launch/serve-launch/internal/testing/testenv"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestProcessContract walks Ray 2.55's haproxy process contract, as raysim
// emulates it, through the shim on the haproxy the tests run ($HAPROXY, or
// PATH's; CI runs it on 2.6 and on 3.0, the versions either side of Ray's
// 2.8), and names that version: the start in master-worker mode (-W), Ray's
// reload with -sf and -x, `show info` answered by a worker of the master
// Ray tracks, the shim's hot reload by SIGUSR2 (same master, new worker),
// and the SIGKILL with which Ray stops haproxy.
func TestProcessContract(t *testing.T) {
	version := testenv.Version(t)
	t.Logf("haproxy %s", version)
	r := start(t, opts{apps: 1, replicas: 2})
	st := r.status(t)
	master := st.HAProxyPID
	require.NotZero(t, master, "the haproxy PID Ray tracks")

	// By ready, Ray has started haproxy before any route and reloaded it
	// with the apps, by -sf OLD -x SOCKET; the shim ran that with -W, so the
	// PID Ray tracks is a master. (The master's own argv no longer holds
	// -sf and -x: haproxy drops them once it has taken over.)
	require.GreaterOrEqual(t, st.Reloads, 1, "Ray's reload that brings the routes")
	sf := slices.Index(st.Argv, "-sf")
	require.True(t, sf > 0 && sf+1 < len(st.Argv), "Ray's reload argv %q has -sf PID", st.Argv)
	assert.Contains(t, st.Argv, "-x", "Ray's reload argv %q", st.Argv)
	assert.Contains(t, cmdline(t, master), "-W", "the shim runs haproxy in master-worker mode")
	old, err := strconv.Atoi(st.Argv[sf+1])
	require.NoError(t, err)
	assert.NoError(t, testenv.WaitGone([]int{old}, 10*time.Second), "the haproxy -sf named (%d) has stopped", old)

	info := r.info(t)
	assert.True(t, strings.HasPrefix(info["Version"], version.String()+"."),
		"show info says Version %q, the tests run haproxy %s", info["Version"], version)
	got, err := masterOf(info)
	require.NoError(t, err)
	assert.Equal(t, master, got, "show info answered by a worker of the master Ray tracks")

	// SIGUSR2 (through a change of overrides.d): the same master re-reads
	// the patched file and a new worker answers.
	oldWorker := info["Pid"]
	hotReloadOnce(t, r)
	testenv.Eventually(t, 10*time.Second, "a new worker of the same master answers show info", func() (bool, string) {
		info, err := r.tryInfo()
		if err != nil {
			return false, err.Error()
		}
		m, err := masterOf(info)
		if err != nil {
			return false, err.Error()
		}
		return info["Pid"] != oldWorker && m == master, fmt.Sprintf("worker %s of master %d (was worker %s of %d)", info["Pid"], m, oldWorker, master)
	})
	assert.Equal(t, master, r.status(t).HAProxyPID, "a hot reload keeps the PID Ray tracks")

	// Ray stops haproxy with SIGKILL to the PID it tracks: the workers go
	// with the master and the ports are free again.
	haproxies := testenv.ProcessesMentioning(r.Dir, "haproxy")
	require.NotEmpty(t, haproxies)
	require.NoError(t, syscall.Kill(master, syscall.SIGKILL))
	assert.NoError(t, testenv.WaitGone(haproxies, 10*time.Second), "haproxy processes %v", haproxies)
	for _, port := range []int{r.HTTPPort, r.StatsPort} {
		testenv.Eventually(t, 10*time.Second, fmt.Sprintf("port %d free", port), func() (bool, string) {
			err := testenv.PortFree(port)
			return err == nil, fmt.Sprint(err)
		})
	}
}

// cmdline is a process's argv.
func cmdline(t *testing.T, pid int) []string {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	require.NoError(t, err)
	return slices.DeleteFunc(strings.Split(string(b), "\x00"), func(s string) bool { return s == "" })
}
