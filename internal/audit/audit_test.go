package audit

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/serve-launch/serve-launch/internal/envmap"
	"github.com/serve-launch/serve-launch/internal/launch"
	"github.com/serve-launch/serve-launch/internal/patch"
	"github.com/serve-launch/serve-launch/internal/patch/config"
	"github.com/serve-launch/serve-launch/internal/patch/load"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  string
		want []string // one substring per finding, in order
	}{
		{
			name: "Ray 2.55 defaults",
			cfg: "global\n    stats socket /tmp/haproxy-serve/admin.sock mode 666 level admin expose-fd listeners\n" +
				"frontend prometheus\n    bind :9101\n    http-request use-service prometheus-exporter if { path /metrics }\n" +
				"frontend http_frontend\n    bind *:8000\n    acl healthcheck path -i /-/healthz\n" +
				"listen stats\n  bind *:8404\n  stats enable\n  stats uri /stats\n",
			want: []string{
				"cfg:2: the stats socket /tmp/haproxy-serve/admin.sock has mode 666 at level admin: any local user can connect to it and take haproxy over (disable servers, change weights, shut it down); it sits under /tmp, a directory every local user shares; fix: enable the example snippet overrides.d/90-admin-socket.toml.example",
				"cfg:4: frontend prometheus (the Prometheus metrics) is bound on all interfaces (bind :9101)",
				"cfg:10: listen stats (the stats page) is bound on all interfaces (bind *:8404) with no authentication: anyone who can reach this host can read it; bind it to 127.0.0.1 or an internal address; fix: enable the example snippet overrides.d/91-loopback-stats.toml.example",
			},
		},
		{
			name: "private socket and loopback binds",
			cfg: "global\n    stats socket /run/hap/admin.sock mode 600 level admin expose-fd listeners\n" +
				"frontend prometheus\n    bind 127.0.0.1:9101\n    http-request use-service prometheus-exporter\n" +
				"listen stats\n  bind 10.0.0.5:8404,127.0.0.1:8404\n  stats enable\n",
		},
		{
			name: "group-writable socket at the default level, elsewhere",
			cfg:  "global\n    stats socket /run/hap/admin.sock mode 660\n",
			want: []string{"cfg:2: the stats socket /run/hap/admin.sock has mode 660 at level operator: any user of the socket's group can connect to it; fix"},
		},
		{
			name: "TCP admin socket and IPv6 any",
			cfg:  "global\n    stats socket ipv4@0.0.0.0:9999 level admin\nlisten stats\n    bind ipv6@:::8404\n    stats uri /\n",
			want: []string{
				"cfg:2: the stats socket ipv4@0.0.0.0:9999 (level admin) listens on all interfaces",
				"cfg:4: listen stats (the stats page) is bound on all interfaces (bind ipv6@:::8404)",
			},
		},
		{
			name: "no mode, unix socket abstract namespace bind",
			cfg:  "global\n    stats socket /tmp/a.sock level admin\nlisten stats\n    bind abns@stats\n    stats enable\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := config.Parse("cfg", []byte(tt.cfg))
			require.NoError(t, err)
			got := Config(f)
			require.Len(t, got, len(tt.want), "%v", got)
			for i, w := range tt.want {
				assert.Contains(t, got[i].String(), w)
			}
		})
	}
}

// TestExamplesFix proves the repository's example snippets clear every
// finding on a config in Ray 2.55's shape, with the default settings and
// with moved paths and ports.
func TestExamplesFix(t *testing.T) {
	examples := t.TempDir()
	for _, name := range []string{ExampleAdminSocket, ExampleLoopbackBind} {
		data, err := os.ReadFile(filepath.Join("..", "..", name))
		require.NoError(t, err)
		dst := filepath.Join(examples, strings.TrimSuffix(filepath.Base(name), ".example"))
		require.NoError(t, os.WriteFile(dst, data, 0o644))
	}
	o, err := load.Dir(examples, load.Options{})
	require.NoError(t, err)
	require.Len(t, o.Snippets, 2)
	for _, vars := range []map[string]string{
		{},
		{"RAY_SERVE_HAPROXY_SOCKET_PATH": "/var/tmp/x/admin.sock", "RAY_SERVE_HAPROXY_METRICS_PORT": "9202"},
	} {
		cfg, err := launch.RayConfig(envmap.DefaultRelease, vars)
		require.NoError(t, err)
		f, err := config.Parse(launch.RayConfigName(envmap.DefaultRelease), cfg)
		require.NoError(t, err)
		require.Len(t, Config(f), 3, "the built-in config has the three findings")
		getenv := func(k string) (string, bool) { v, ok := vars[k]; return v, ok }
		require.NoError(t, o.Apply(f, patch.ApplyOptions{Getenv: getenv}))
		assert.Empty(t, Config(f), "%s", f.Render())
	}
}
