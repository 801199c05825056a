package testenv

import (
	"path/filepath"
	"strconv"
	"testing"
)

// RayEnvMap is a RAY_SERVE_HAPROXY_* environment with every path in a temp
// dir, a maxconn the machine's 20000-fd limit allows, and free ports.
func RayEnvMap(t *testing.T) map[string]string {
	t.Helper()
	dir := t.TempDir()
	return map[string]string{
		"RAY_SERVE_HAPROXY_MAXCONN":             "2000",
		"RAY_SERVE_HAPROXY_NBTHREAD":            "2",
		"RAY_SERVE_HAPROXY_CONFIG_FILE_LOC":     filepath.Join(dir, "haproxy.cfg"),
		"RAY_SERVE_HAPROXY_SOCKET_PATH":         filepath.Join(dir, "admin.sock"),
		"RAY_SERVE_HAPROXY_SERVER_STATE_BASE":   dir,
		"RAY_SERVE_HAPROXY_SERVER_STATE_FILE":   filepath.Join(dir, "server-state"),
		"RAY_SERVE_HAPROXY_METRICS_PORT":        strconv.Itoa(FreePort(t)),
		"RAY_SERVE_HAPROXY_METRICS_SOCKET_PATH": filepath.Join(dir, "metrics.sock"),
	}
}
