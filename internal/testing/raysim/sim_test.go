package raysim

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/serve-launch/serve-launch/internal/raycfg"
	"github.com/serve-launch/serve-launch/internal/testing/testenv"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// lineWriter collects RunSim's log and closes ready at the ready line.
type lineWriter struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	once  sync.Once
	ready chan struct{}
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if strings.Contains(w.buf.String(), "raysim: ready ") {
		w.once.Do(func() { close(w.ready) })
	}
	return len(p), nil
}

func (w *lineWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// recordingHAProxy writes a script that keeps each invocation's argv and a
// copy of the config it was given (-f is argv[2] in Ray's argv), then execs
// the real haproxy, so the PID Ray tracks stays haproxy's.
func recordingHAProxy(t *testing.T, dir string) string {
	t.Helper()
	real := testenv.HAProxy(t)
	return writeScript(t, dir, "haproxy", fmt.Sprintf(`n=$(ls %[1]s | grep -c '^argv\.')
echo "$@" > %[1]s/argv.$n
cp "$3" %[1]s/cfg.$n
exec %[2]s "$@"
`, dir, real))
}

// runSim runs RunSim until it is serving, then returns a stop function
// that ends it and waits.
func runSim(t *testing.T, cfg SimConfig) (stop func()) {
	t.Helper()
	log := &lineWriter{ready: make(chan struct{})}
	cfg.Log = log
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- RunSim(ctx, cfg) }()
	stop = func() {
		cancel()
		select {
		case err := <-errc:
			assert.NoError(t, err)
		case <-time.After(10 * time.Second):
			t.Error("RunSim did not return within 10s of cancel")
		}
	}
	select {
	case <-log.ready:
	case err := <-errc:
		cancel()
		t.Fatalf("RunSim ended before ready: %v\n%s", err, log.String())
	case <-time.After(30 * time.Second):
		stop()
		t.Fatalf("RunSim not ready within 30s:\n%s", log.String())
	}
	return stop
}

// TestRunSimRoutesAfterStart checks Ray's start sequence, the default: the first haproxy
// runs a config with no applications (/-/healthz 503, "Route table is not
// populated yet."), and the applications arrive by a -sf/-x reload.
func TestRunSimRoutesAfterStart(t *testing.T) {
	dir := t.TempDir()
	rec := filepath.Join(dir, "rec")
	require.NoError(t, os.Mkdir(rec, 0o755))
	bin := recordingHAProxy(t, rec)
	env := testenv.RayEnvMap(t)
	env["RAY_SERVE_HAPROXY_BINARY_PATH"] = bin
	environ := os.Environ()
	for k, v := range env {
		environ = append(environ, k+"="+v)
	}
	statusFile := filepath.Join(dir, "status.json")
	stop := runSim(t, SimConfig{Shape: raycfg.Shape255, Apps: 1, Replicas: 2, Environ: environ,
		HTTPPort: testenv.FreePort(t), StatsPort: testenv.FreePort(t), StatusFile: statusFile, ReplicaGrace: -1})
	defer stop()

	argv0, err := os.ReadFile(filepath.Join(rec, "argv.0"))
	require.NoError(t, err)
	cfg0, err := os.ReadFile(filepath.Join(rec, "cfg.0"))
	require.NoError(t, err)
	argv1, err := os.ReadFile(filepath.Join(rec, "argv.1"))
	require.NoError(t, err)
	cfg1, err := os.ReadFile(filepath.Join(rec, "cfg.1"))
	require.NoError(t, err)
	assert.NoFileExists(t, filepath.Join(rec, "argv.2"), "one reload before ready")

	cfgFile, sock := env["RAY_SERVE_HAPROXY_CONFIG_FILE_LOC"], env["RAY_SERVE_HAPROXY_SOCKET_PATH"]
	assert.Equal(t, "-db -f "+cfgFile+" -dR\n", string(argv0))
	assert.NotContains(t, string(cfg0), "\nbackend http-app1\n", "the first start routes no app")
	assert.Contains(t, string(cfg0), `string "Route table is not populated yet." if healthcheck`)
	assert.Regexp(t, `^-db -f `+cfgFile+` -dR -sf \d+ -x `+sock+"\n$", string(argv1))
	assert.Contains(t, string(cfg1), "\nbackend http-app1\n", "the reload brings the app")

	st, err := os.ReadFile(statusFile)
	require.NoError(t, err)
	assert.Contains(t, string(st), `"reloads": 1,`)
	pid0 := strings.Fields(string(argv1))[5]
	_, err = strconv.Atoi(pid0)
	assert.NoError(t, err, "-sf names the first haproxy's PID")
}
