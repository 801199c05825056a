package envmap

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCheckKinds(t *testing.T) {
	tests := []struct {
		name  string
		var_  string
		value string
		ok    bool
	}{
		{"integer", "RAY_SERVE_HAPROXY_MAXCONN", "2000", true},
		{"integer zero", "RAY_SERVE_HAPROXY_MAXCONN", "0", false},
		{"integer negative", "RAY_SERVE_HAPROXY_MAXCONN", "-5", false},
		{"integer underscore Ray would take", "RAY_SERVE_HAPROXY_MAXCONN", "1_000", false},
		{"integer word", "RAY_SERVE_HAPROXY_NBTHREAD", "four", false},
		{"retries zero", "RAY_SERVE_HAPROXY_RETRIES", "0", true},
		{"seconds", "RAY_SERVE_HAPROXY_TIMEOUT_CLIENT_S", "60", true},
		{"seconds zero", "RAY_SERVE_HAPROXY_TIMEOUT_CLIENT_S", "0", true},
		{"seconds with unit", "RAY_SERVE_HAPROXY_TIMEOUT_CLIENT_S", "60s", false},
		{"seconds fraction", "RAY_SERVE_HAPROXY_TIMEOUT_SERVER_S", "1.5", false},
		{"port", "RAY_SERVE_HAPROXY_METRICS_PORT", "9101", true},
		{"port zero", "RAY_SERVE_HAPROXY_METRICS_PORT", "0", false},
		{"port too big", "RAY_SERVE_DIRECT_INGRESS_MAX_HTTP_PORT", "65536", false},
		{"port max", "RAY_SERVE_DIRECT_INGRESS_MAX_HTTP_PORT", "65535", true},
		{"time ms", "RAY_SERVE_HAPROXY_HEALTH_CHECK_FASTINTER", "250ms", true},
		{"time s", "RAY_SERVE_HAPROXY_HEALTH_CHECK_INTER", "5s", true},
		{"time m", "RAY_SERVE_HAPROXY_HEALTH_CHECK_INTER", "1m", true},
		{"time bare number is ms", "RAY_SERVE_HAPROXY_HEALTH_CHECK_INTER", "500", true},
		{"time bad unit", "RAY_SERVE_HAPROXY_HEALTH_CHECK_INTER", "5sec", false},
		{"time at haproxy's limit", "RAY_SERVE_HAPROXY_HEALTH_CHECK_INTER", "2147483647", true},
		{"time over haproxy's limit", "RAY_SERVE_HAPROXY_HEALTH_CHECK_INTER", "25d", false},
		{"time overflowing int64", "RAY_SERVE_HAPROXY_HEALTH_CHECK_INTER", "99999999999999999999d", false},
		{"time fraction", "RAY_SERVE_HAPROXY_HEALTH_CHECK_INTER", "0.5s", false},
		{"time zero haproxy refuses", "RAY_SERVE_HAPROXY_HEALTH_CHECK_INTER", "0", false},
		{"time zero with unit", "RAY_SERVE_HAPROXY_HEALTH_CHECK_DOWNINTER", "0ms", false},
		{"time below a millisecond", "RAY_SERVE_HAPROXY_HEALTH_CHECK_FASTINTER", "1us", true},
		{"flag on", "RAY_SERVE_ENABLE_HA_PROXY", "1", true},
		{"flag off", "RAY_SERVE_ENABLE_HA_PROXY", "0", true},
		{"flag true is silently off in Ray", "RAY_SERVE_ENABLE_HA_PROXY", "true", false},
		{"path absolute", "RAY_SERVE_HAPROXY_SOCKET_PATH", "/run/admin.sock", true},
		{"path relative", "RAY_SERVE_HAPROXY_SOCKET_PATH", "admin.sock", false},
		{"path with a space in haproxy.cfg", "RAY_SERVE_HAPROXY_SOCKET_PATH", "/tmp/a b.sock", false},
		{"path with a space on haproxy's command line", "RAY_SERVE_HAPROXY_CONFIG_FILE_LOC", "/srv/my dir/haproxy.cfg", true},
		{"state file with a space", "RAY_SERVE_HAPROXY_SERVER_STATE_FILE", "/srv/x y", false},
		{"command name", "RAY_SERVE_HAPROXY_BINARY_PATH", "haproxy", true},
		{"command path", "RAY_SERVE_HAPROXY_BINARY_PATH", "/usr/sbin/haproxy", true},
		{"command with args", "RAY_SERVE_HAPROXY_BINARY_PATH", "haproxy -V", false},
		{"enum", "RAY_SERVE_HAPROXY_BALANCE_ALGORITHM", "roundrobin", true},
		{"enum static-rr", "RAY_SERVE_HAPROXY_BALANCE_ALGORITHM", "static-rr", true},
		{"enum hdr with name", "RAY_SERVE_HAPROXY_BALANCE_ALGORITHM", "hdr(host)", true},
		{"enum hdr without name", "RAY_SERVE_HAPROXY_BALANCE_ALGORITHM", "hdr", false},
		{"enum random draws", "RAY_SERVE_HAPROXY_BALANCE_ALGORITHM", "random(2)", true},
		{"enum url_param with name", "RAY_SERVE_HAPROXY_BALANCE_ALGORITHM", "url_param session", true},
		{"enum url_param bare", "RAY_SERVE_HAPROXY_BALANCE_ALGORITHM", "url_param", false},
		{"enum unknown", "RAY_SERVE_HAPROXY_BALANCE_ALGORITHM", "least_conn", false},
		{"enum unclosed", "RAY_SERVE_HAPROXY_BALANCE_ALGORITHM", "hdr(host", false},
		{"enum with a directive after it", "RAY_SERVE_HAPROXY_BALANCE_ALGORITHM", "roundrobin timeout server 1ms", false},
		{"enum with a word after it", "RAY_SERVE_HAPROXY_BALANCE_ALGORITHM", "leastconn x", false},
		{"enum hdr with a word after it", "RAY_SERVE_HAPROXY_BALANCE_ALGORITHM", "hdr(host) x", false},
		{"enum url_param with two names", "RAY_SERVE_HAPROXY_BALANCE_ALGORITHM", "url_param a b", false},
		{"enum url_param name with a quote", "RAY_SERVE_HAPROXY_BALANCE_ALGORITHM", `url_param "a`, false},
		{"enum rdp-cookie", "RAY_SERVE_HAPROXY_BALANCE_ALGORITHM", "rdp-cookie", true},
		{"enum rdp-cookie with name", "RAY_SERVE_HAPROXY_BALANCE_ALGORITHM", "rdp-cookie(mstshash)", true},
		{"enum random draws not a number", "RAY_SERVE_HAPROXY_BALANCE_ALGORITHM", "random(x)", false},
		{"enum argument where none is taken", "RAY_SERVE_HAPROXY_BALANCE_ALGORITHM", "leastconn(1)", false},
		{"enum hdr name with a space", "RAY_SERVE_HAPROXY_BALANCE_ALGORITHM", "hdr(a b)", false},
		{"enum hdr name with a comment", "RAY_SERVE_HAPROXY_BALANCE_ALGORITHM", "hdr(a#b)", false},
		{"address", "RAY_SERVE_HAPROXY_LOG_TARGET", "127.0.0.1:514", true},
		{"address without port", "RAY_SERVE_HAPROXY_LOG_TARGET", "127.0.0.1", false},
		{"address bad port", "RAY_SERVE_HAPROXY_LOG_TARGET", "localhost:99999", false},
		{"address host with a space", "RAY_SERVE_HAPROXY_LOG_TARGET", "a b:514", false},
		{"port with a sign", "RAY_SERVE_HAPROXY_METRICS_PORT", "+9101", false},
		{"keywords", "RAY_SERVE_HAPROXY_RETRY_ON", "conn-failure empty-response 503", true},
		{"keywords unknown", "RAY_SERVE_HAPROXY_RETRY_ON", "conn-failure 599", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, ok := Lookup(tt.var_)
			require.True(t, ok, "no variable %s", tt.var_)
			got := check(v, tt.value)
			if tt.ok {
				assert.Empty(t, got)
			} else {
				assert.NotEmpty(t, got)
			}
		})
	}
}

// TestTableConsistent guards the table itself: every default and example
// passes its own check, names are unique, and every kind is exercised.
func TestTableConsistent(t *testing.T) {
	seen := map[string]bool{}
	kinds := map[Kind]bool{}
	for _, v := range All() {
		t.Run(v.Name, func(t *testing.T) {
			assert.False(t, seen[v.Name], "duplicate")
			seen[v.Name] = true
			kinds[v.Kind] = true
			assert.NotEmpty(t, v.Doc)
			assert.NotEmpty(t, v.Section)
			assert.NotEmpty(t, v.Directive)
			assert.NotEmpty(t, v.Versions)
			assert.Empty(t, check(v, v.Example), "example %q", v.Example)
			if v.Omitted {
				assert.Empty(t, v.Default)
			} else {
				assert.Empty(t, check(v, v.Default), "default %q", v.Default)
			}
			for r, d := range v.Defaults {
				assert.Empty(t, check(v, d), "default %q in %s", d, r)
			}
			if v.Kind == KindFlag {
				assert.NotEmpty(t, v.DirectiveOff)
			}
		})
	}
	for _, k := range []Kind{KindInt, KindPort, KindSeconds, KindTime, KindFlag, KindPath, KindCommand, KindEnum, KindAddress, KindKeywords} {
		assert.True(t, kinds[k], "kind %s unused", k)
	}
}

func TestTableIsACopy(t *testing.T) {
	a := Table()
	a[0].Name = "CHANGED"
	a[len(a)-1].Values = append(a[len(a)-1].Values, "x")
	assert.NotEqual(t, "CHANGED", Table()[0].Name)
	v, _ := Lookup("RAY_SERVE_HAPROXY_BALANCE_ALGORITHM")
	v.Values[0] = "CHANGED"
	v, _ = Lookup("RAY_SERVE_HAPROXY_BALANCE_ALGORITHM")
	assert.Equal(t, "roundrobin", v.Values[0])
}

func TestEffect(t *testing.T) {
	maxconn, _ := Lookup("RAY_SERVE_HAPROXY_MAXCONN")
	assert.Equal(t, "maxconn 130000", maxconn.Effect("130000", true))
	server, _ := Lookup("RAY_SERVE_HAPROXY_TIMEOUT_SERVER_S")
	assert.Equal(t, "(omitted)", server.Effect("", false))
	assert.Equal(t, "timeout server 120s", server.Effect("120", true))
	reuse, _ := Lookup("SERVE_SOCKET_REUSE_PORT_ENABLED")
	assert.Equal(t, "-dR", reuse.Effect("0", false))
}
