package patch

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/serve-launch/serve-launch/internal/patch/config"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestIntrusionGuardsYieldToForce: every guard-* snippet of the bad corpus
// applies once its edits and sections say force = true, and what Ray's
// config needs is refused only while it does not.
func TestIntrusionGuardsYieldToForce(t *testing.T) {
	paths, err := filepath.Glob("testdata/bad/guard-*.toml")
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(paths), 15)
	cfg := mustRead(t, "testdata/ray-2.55.cfg")
	for _, path := range paths {
		name := filepath.Base(path)
		t.Run(strings.TrimSuffix(name, ".toml"), func(t *testing.T) {
			data := string(mustRead(t, path))
			require.Error(t, badSnippetErr(name, []byte(data), cfg))
			forced := strings.ReplaceAll(strings.ReplaceAll(data, "[[edit]]\n", "[[edit]]\nforce = true\n"), "[[section]]\n", "[[section]]\nforce = true\n")
			assert.NoError(t, badSnippetErr(name, []byte(forced), cfg))
		})
	}
}

// TestIntrusionGuards covers what the guards let through (the cookbook's
// recipes among it) and Ray master's gRPC frontend.
func TestIntrusionGuards(t *testing.T) {
	tests := []struct {
		name    string
		cfg     string
		snippet string
		want    string // "" for a snippet that applies
	}{
		{name: "tighter admin socket in place", cfg: "ray-2.55.cfg",
			snippet: "[[edit]]\nsection = \"global\"\nset = [\"stats socket /tmp/haproxy-serve/admin.sock mode 600 level admin expose-fd listeners\"]\n"},
		{name: "a socket of its own", cfg: "ray-2.55.cfg",
			snippet: "[[edit]]\nsection = \"global\"\nadd = [\"stats socket /run/mine.sock mode 600 level user\"]\n"},
		{name: "loopback stats in their own section", cfg: "ray-2.55.cfg",
			snippet: "[[edit]]\nsection = \"listen stats\"\ndelete = [\"bind *\"]\nadd = [\"bind 127.0.0.1:8404\"]\n"},
		{name: "a frontend on a port of its own", cfg: "ray-2.55.cfg",
			snippet: "[[section]]\nheader = \"frontend metrics_local\"\nlines = [\"bind 127.0.0.1:9102\", \"http-request use-service prometheus-exporter if { path /metrics }\"]\n"},
		{name: "deny after Ray's rules", cfg: "ray-2.55.cfg",
			snippet: "[[edit]]\nsection = \"frontend http_frontend\"\ninsert = [{ before = \"use_backend *\", lines = [\"http-request deny deny_status 429 if { sc_http_req_rate(0) gt 200 }\"] }]\n"},
		{name: "deny added after Ray's last rule", cfg: "ray-2.55.cfg",
			snippet: "[[edit]]\nsection = \"frontend http_frontend\"\nadd = [\"http-request deny if { path /admin }\"]\n"},
		{name: "header rule ahead of Ray's", cfg: "ray-2.55.cfg",
			snippet: "[[edit]]\nsection = \"frontend http_frontend\"\ninsert = [{ before = \"http-request *\", lines = [\"http-request set-header X-Seen 1\"] }]\n"},
		{name: "disabled in a section of the snippet's", cfg: "ray-2.55.cfg",
			snippet: "[[section]]\nheader = \"backend spare\"\nlines = [\"disabled\", \"server s 127.0.0.1:1\"]\n"},
		{name: "redirect ahead of Ray's rules, from a template", cfg: "ray-2.55.cfg",
			snippet: "[[edit]]\nsection = \"frontend http_frontend\"\ninsert = [{ before = \"http-request *\", lines = [\"{{ \\\"http-request\\\" }} redirect location /x\"] }]\n",
			want:    "frontend http_frontend: http-request redirect location /x (a rule that can answer, deny or redirect ahead of Ray's /-/healthz"},
		{name: "gRPC port", cfg: "ray-master.cfg",
			snippet: "[[section]]\nheader = \"frontend shadow\"\nlines = [\"bind :9000\"]\n",
			want:    "x.toml:1: [[section]] \"frontend shadow\" adds what takes over from Ray: frontend shadow: bind :9000 (Ray's gRPC port 9000 belongs to frontend grpc_frontend"},
		{name: "gRPC routes", cfg: "ray-master.cfg",
			snippet: "[[edit]]\nsection = \"frontend grpc_frontend\"\ndelete = [\"use_backend grpc-llm *\"]\n",
			want:    "frontend grpc_frontend: use_backend grpc-llm if is_grpc-llm (Ray routes each application to its backend by these rules)"},
		{name: "Ray master's admin path", cfg: "ray-master.cfg",
			snippet: "[[edit]]\nsection = \"global\"\nadd = [\"stats socket /tmp/haproxy-serve/node1/admin.sock level user\"]\n",
			want:    "a second stats socket on Ray's admin socket path /tmp/haproxy-serve/node1/admin.sock"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := badSnippetErr("x.toml", []byte(tt.snippet), mustRead(t, "testdata/"+tt.cfg))
			if tt.want == "" {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

// TestBindPorts reads the ports of haproxy's bind addresses.
func TestBindPorts(t *testing.T) {
	tests := []struct {
		name string
		addr string
		want [][2]int
	}{
		{"all interfaces", ":9101", [][2]int{{9101, 9101}}},
		{"star", "*:8404", [][2]int{{8404, 8404}}},
		{"IPv4", "0.0.0.0:8000", [][2]int{{8000, 8000}}},
		{"IPv6", "[::]:8000", [][2]int{{8000, 8000}}},
		{"IPv6 bare", ":::8000", [][2]int{{8000, 8000}}},
		{"range", "127.0.0.1:8000-8010", [][2]int{{8000, 8010}}},
		{"list with prefixes", "ipv4@:80,ipv6@:443", [][2]int{{80, 80}, {443, 443}}},
		{"unix socket", "unix@/run/x.sock", nil},
		{"path", "/run/x.sock", nil},
		{"file descriptor", "fd@3", nil},
		{"QUIC is UDP", "quic4@:443", nil},
		{"from haproxy's environment", ":${PORT}", nil},
		{"no port", "127.0.0.1", nil},
		{"port out of range", ":70000", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, bindPorts(tt.addr))
		})
	}
}

// TestSetKeepsRayParams: a set that replaces a server, default-server or
// bind line of Ray's and drops its parameters is refused, once per set
// line; force, params, and lines that are not Ray's go through.
func TestSetKeepsRayParams(t *testing.T) {
	const backends = "[[edit]]\nsection = \"backend *\"\nexclude = [\"default_backend\"]\n"
	tests := []struct {
		name    string
		snippet string
		want    string // "" for a snippet that applies
	}{
		{name: "forced", snippet: backends + "set = [\"default-server maxconn 32\"]\nforce = true\n"},
		{name: "params merges", snippet: backends + "params = [{ on = \"default-server\", set = \"maxconn 32\" }]\n"},
		{name: "every parameter kept", snippet: backends + "set = [\"default-server check inter 2s fastinter 250ms downinter 250ms fall 2 rise 2 maxconn 32\"]\n"},
		{name: "a bind with parameters added", snippet: "[[edit]]\nsection = \"listen stats\"\nset = [\"bind *:8404 name stats\"]\n"},
		{name: "a line a snippet wrote",
			snippet: "[[section]]\nheader = \"backend spare\"\nlines = [\"default-server check inter 1s\", \"server s 127.0.0.1:1\"]\n" +
				"[[edit]]\nsection = \"backend spare\"\nset = [\"default-server maxconn 4\"]\n"},
		{name: "after params, still Ray's line",
			snippet: backends + "params = [{ on = \"default-server\", set = \"maxconn 32\" }]\n" + backends + "set = [\"default-server maxconn 16\"]\n",
			want:    `x.toml:8: set "default-server maxconn 16" replaces Ray's line "default-server check inter 5s fastinter 250ms downinter 250ms fall 2 rise 2 maxconn 32" in backend http-text and drops its check, inter, fastinter, downinter, fall and rise`},
		{name: "no parameters left", snippet: backends + "set = [\"default-server\"]\n",
			want: `x.toml:4: set "default-server" replaces Ray's line "default-server check inter 5s fastinter 250ms downinter 250ms fall 2 rise 2" in backend http-text and drops its check, inter, fastinter, downinter, fall and rise; set force = true on the edit if you mean to replace it`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := badSnippetErr("x.toml", []byte(tt.snippet), mustRead(t, "testdata/ray-2.55.cfg"))
			if tt.want == "" {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			var list config.ErrorList
			require.ErrorAs(t, err, &list)
			assert.Len(t, list, 1, "one error per set line, not one per backend: %v", err)
		})
	}
}
