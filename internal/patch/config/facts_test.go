package config

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// parseAll parses each text as one file of a configuration.
func parseAll(t *testing.T, texts ...string) []*File {
	t.Helper()
	var files []*File
	for i, text := range texts {
		f, err := Parse(string(rune('a'+i))+".cfg", []byte(text))
		require.NoError(t, err)
		files = append(files, f)
	}
	return files
}

// TestFacts holds Facts to the rules of the config scan it replaces
// (internal/proc's scanConfig) and to its cases.
func TestFacts(t *testing.T) {
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
	f := parseAll(t, cfg)[0].Facts()
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
	f = FactsOf(parseAll(t, first, second)...)
	assert.Equal(t, "/tmp/a.sock", f.AdminSocket)
	assert.Empty(t, f.ServerStateFile)
	assert.Equal(t, []string{"127.0.0.1:9000", ":9001"}, f.Listeners)

	// Every section keyword haproxy knows ends a frontend, indented or not,
	// as in the patch model: a log-forward's bind is not a listener.
	third := "frontend f\n    bind :1\nlog-forward sys\n    bind :514\n  backend b\n    bind :2\n"
	assert.Equal(t, []string{":1"}, parseAll(t, third)[0].Facts().Listeners)
}

// TestFactsServerState: the state file is joined to the base when relative,
// across files, and each of the two keeps its first line, as haproxy does.
func TestFactsServerState(t *testing.T) {
	tests := []struct {
		name  string
		files []string
		want  string
	}{
		{"absolute file", []string{"global\n    server-state-base /b\n    server-state-file /s/state\n"}, "/s/state"},
		{"relative file without a base", []string{"global\n    server-state-file state\n"}, "state"},
		{"base in another file", []string{"global\n    server-state-base /b\n", "global\n    server-state-file state\n"}, "/b/state"},
		{"first lines win", []string{"global\n    server-state-base /b\n    server-state-base /c\n    server-state-file x\n    server-state-file y\n"}, "/b/x"},
		{"not in global", []string{"defaults\n    server-state-file /s\n"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, FactsOf(parseAll(t, tt.files...)...).ServerStateFile)
		})
	}
}

// TestFactsAdminSocket: the first admin socket on a path counts; a TCP or
// abstract socket, or one below admin level, does not.
func TestFactsAdminSocket(t *testing.T) {
	tests := []struct {
		name, cfg, want string
	}{
		{"admin", "global\n    stats socket /run/a.sock level admin\n", "/run/a.sock"},
		{"unix prefix", "global\n    stats socket unix@/run/a.sock mode 600 level admin\n", "/run/a.sock"},
		{"first of two", "global\n    stats socket /run/a.sock level admin\n    stats socket /run/b.sock level admin\n", "/run/a.sock"},
		{"user level", "global\n    stats socket /run/a.sock level user\n", ""},
		{"no level", "global\n    stats socket /run/a.sock\n", ""},
		{"TCP", "global\n    stats socket 127.0.0.1:9999 level admin\n", ""},
		{"quoted comment sign", "global\n    stats socket \"/run/a#b.sock\" level admin\n", "/run/a#b.sock"},
		{"outside global", "frontend f\n    stats socket /run/a.sock level admin\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, parseAll(t, tt.cfg)[0].Facts().AdminSocket)
		})
	}
}
