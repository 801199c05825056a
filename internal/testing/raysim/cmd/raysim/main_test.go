package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/serve-launch/serve-launch/internal/testing/raysim"
	"github.com/serve-launch/serve-launch/internal/testing/testenv"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestMain lets the test binary act as the raysim command, so the tests run
// the real command (signals, exit codes) without a separate build.
func TestMain(m *testing.M) {
	if os.Getenv("RAYSIM_TEST_AS_COMMAND") == "1" {
		main()
	}
	os.Exit(m.Run())
}

func command(t *testing.T, env []string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(append(os.Environ(), "RAYSIM_TEST_AS_COMMAND=1"), env...)
	return cmd
}

func TestHelpSaysEmulator(t *testing.T) {
	out, err := command(t, nil, "--help").CombinedOutput()
	require.NoError(t, err)
	assert.Contains(t, string(out), "EMULATES Ray Serve's haproxy process contract; it is not Ray")
}

func TestRunChurnAndStop(t *testing.T) {
	bin := testenv.HAProxy(t)
	dir := t.TempDir()
	httpPort, statsPort, metricsPort := testenv.FreePort(t), testenv.FreePort(t), testenv.FreePort(t)
	statusFile := filepath.Join(dir, "status.json")
	env := append(testenv.RayEnv(dir), "RAY_SERVE_HAPROXY_BINARY_PATH="+bin)
	cmd := command(t, env, "--apps", "2", "--replicas", "2",
		"--http-port", strconv.Itoa(httpPort), "--stats-port", strconv.Itoa(statsPort),
		"--metrics-port", strconv.Itoa(metricsPort),
		"--churn", "3", "--churn-interval", "200ms", "--status-file", statusFile)
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	log := testenv.NewLineLog()
	go log.Read(stderr)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("raysim output:\n%s", strings.Join(log.All(), "\n"))
		}
	})
	waitLine := func(prefix string) string {
		t.Helper()
		_, line := log.WaitFor(t, 0, prefix, 20*time.Second)
		return line
	}

	ready := waitLine("raysim: ready http=")
	assert.Contains(t, ready, fmt.Sprintf("http=127.0.0.1:%d ", httpPort))
	for _, app := range []string{"/app1/x", "/app2"} {
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d%s", httpPort, app))
		require.NoError(t, err)
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		assert.Equal(t, 200, resp.StatusCode, app)
	}

	waitLine("raysim: churn done: 3 reloads, 0 failed")
	var st raysim.Status
	b, err := os.ReadFile(statusFile)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &st))
	assert.Equal(t, 1+3, st.Reloads, "the reload that brought the first routes, then the churn's")
	assert.Equal(t, httpPort, st.HTTPPort)
	assert.Equal(t, statsPort, st.StatsPort)
	assert.Equal(t, metricsPort, st.MetricsPort)
	assert.Contains(t, st.Emulated, "not Ray")
	require.Len(t, st.Apps, 2)
	assert.Equal(t, "http-app1", st.Apps[0].Backend)
	assert.Len(t, st.Apps[0].Replicas, 3, "2 + add, remove, add")
	assert.Equal(t, []string{bin, "-db", "-f", st.ConfigFile, "-dR", "-sf"}, st.Argv[:6])
	assert.Equal(t, st.HAProxyPID, st.LivePIDs[len(st.LivePIDs)-1])

	// A replica's control endpoint answers directly, not through haproxy.
	resp, err := http.Get("http://" + st.Apps[0].Replicas[0].Addr + "/-/raysim/stats")
	require.NoError(t, err)
	var rs raysim.ReplicaStats
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&rs))
	resp.Body.Close()
	assert.Equal(t, st.Apps[0].Replicas[0].Name, rs.Name)
	assert.Positive(t, rs.HealthzHits)

	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	waitLine("raysim: stopping: SIGKILL to haproxy pids")
	errc := make(chan error, 1)
	go func() { errc <- cmd.Wait() }()
	select {
	case err := <-errc:
		require.NoError(t, err, "exit status 0 after SIGTERM")
	case <-time.After(10 * time.Second): // generous: typically well under 1 s
		t.Fatal("raysim did not exit within 10s of SIGTERM")
	}
	for _, pid := range st.LivePIDs {
		assert.ErrorIs(t, syscall.Kill(pid, 0), syscall.ESRCH, "haproxy pid %d is gone", pid)
	}
	for _, port := range []int{httpPort, statsPort, metricsPort} {
		// Generous for a loaded machine: the poll ends once the port is free.
		testenv.Eventually(t, 10*time.Second, fmt.Sprintf("port %d free", port), func() (bool, string) {
			err := testenv.PortFree(port)
			return err == nil, fmt.Sprint(err)
		})
	}
}
