package raysim

import (
	"net"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
)

// haproxyBin returns the real haproxy; the tests fail, not skip, without it.
func haproxyBin(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("haproxy")
	require.NoError(t, err, "haproxy must be on PATH for these tests (apt-get install -y haproxy)")
	return bin
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// testEnv is a RAY_SERVE_HAPROXY_* environment with every path in a temp
// dir, a maxconn the machine's 20000-fd limit allows, and free ports.
func testEnv(t *testing.T) map[string]string {
	t.Helper()
	dir := t.TempDir()
	return map[string]string{
		"RAY_SERVE_HAPROXY_MAXCONN":             "2000",
		"RAY_SERVE_HAPROXY_NBTHREAD":            "2",
		"RAY_SERVE_HAPROXY_CONFIG_FILE_LOC":     filepath.Join(dir, "haproxy.cfg"),
		"RAY_SERVE_HAPROXY_SOCKET_PATH":         filepath.Join(dir, "admin.sock"),
		"RAY_SERVE_HAPROXY_SERVER_STATE_BASE":   dir,
		"RAY_SERVE_HAPROXY_SERVER_STATE_FILE":   filepath.Join(dir, "server-state"),
		"RAY_SERVE_HAPROXY_METRICS_PORT":        strconv.Itoa(freePort(t)),
		"RAY_SERVE_HAPROXY_METRICS_SOCKET_PATH": filepath.Join(dir, "metrics.sock"),
	}
}
