//go:build linux

package shim_test

import (
	"testing"

	"github.com/serve-launch/serve-launch/internal/proc/shim"
	"github.com/stretchr/testify/assert"
)

func TestScanConfig(t *testing.T) {
	cfg := `global
    stats socket /tmp/hs/admin.sock mode 666 level admin expose-fd listeners
    server-state-base /tmp/hs
    server-state-file server-state
defaults
    mode http
frontend http_frontend
    bind *:8000
listen stats
  bind *:8404
`
	f := shim.ScanConfig([]byte(cfg))
	assert.Equal(t, "/tmp/hs/admin.sock", f.AdminSocket)
	assert.Equal(t, "/tmp/hs/server-state", f.ServerStateFile)
	assert.Equal(t, []string{"*:8000", "*:8404"}, f.Listeners)

	// Several files are read in load order; comments, a socket below admin
	// level, binds outside frontends and a file without a final newline are
	// handled as haproxy would.
	first := "global\n    stats socket /tmp/ro.sock level user\n    # stats socket /tmp/c.sock level admin\n" +
		"backend b\n    bind *:1\n"
	second := "global\n\tstats  socket unix@/tmp/a.sock level admin # second file\n" +
		"frontend f\n\tbind 127.0.0.1:9000 # x\n    bind\n  bind :9001"
	f = shim.ScanConfig([]byte(first), []byte(second))
	assert.Equal(t, "/tmp/a.sock", f.AdminSocket)
	assert.Empty(t, f.ServerStateFile)
	assert.Equal(t, []string{"127.0.0.1:9000", ":9001"}, f.Listeners)

	// Every section keyword haproxy knows ends a frontend, indented or not,
	// as in the patch model: a log-forward's bind is not a listener.
	third := "frontend f\n    bind :1\nlog-forward sys\n    bind :514\n  backend b\n    bind :2\n"
	assert.Equal(t, []string{":1"}, shim.ScanConfig([]byte(third)).Listeners)
}
