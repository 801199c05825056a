package raycfg

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/serve-launch/serve-launch/internal/envmap"
	"github.com/serve-launch/serve-launch/internal/testing/testenv"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// twoApps is the fixture most goldens use: a prefixed app with two replicas
// and a root app with three, named as Ray names replica actors.
func twoApps() []App {
	return []App{
		{Name: "root app", RoutePrefix: "/", Replicas: []Target{
			{Name: "SERVE_REPLICA::root app#Ingress#a1", Host: "127.0.0.1", Port: 30001},
			{Name: "SERVE_REPLICA::root app#Ingress#a2", Host: "127.0.0.1", Port: 30002},
			{Name: "SERVE_REPLICA::root app#Ingress#a3", Host: "10.0.0.7", Port: 30003},
		}},
		{Name: "app1", RoutePrefix: "/app1", Replicas: []Target{
			{Name: "SERVE_REPLICA::app1#Model#x9", Host: "127.0.0.1", Port: 30010},
			{Name: "SERVE_REPLICA::app1#Model#y8", Host: "127.0.0.1", Port: 30011},
		}},
	}
}

func masterApps() []App {
	apps := twoApps()
	apps[1].Fallback = &Target{Name: "SERVE_PROXY_ACTOR-head", Host: "10.0.0.1", Port: 8000}
	apps[1].IngressRouters = []Target{{Name: "SERVE_REPLICA::app1#Router#r1", Host: "127.0.0.1", Port: 30020}}
	apps[1].Replicas[0].ReplicaID = "x9"
	apps[1].Replicas[1].ReplicaID = "y8"
	return append(apps, App{Name: "grpc_app", GRPC: true, Replicas: []Target{
		{Name: "SERVE_REPLICA::grpc_app#G#g1", Host: "127.0.0.1", Port: 40001},
	}})
}

func TestRenderGolden(t *testing.T) {
	tests := []struct {
		name string
		opts Options
	}{
		{name: "v255_default", opts: Options{Shape: Shape255, Apps: twoApps()}},
		{name: "v255_env", opts: Options{Shape: Shape255, Apps: twoApps(), Env: map[string]string{
			"RAY_SERVE_HAPROXY_TCP_NODELAY":                 "1",
			"RAY_SERVE_HAPROXY_BALANCE_ALGORITHM":           "roundrobin",
			"RAY_SERVE_HAPROXY_TIMEOUT_SERVER_S":            "30",
			"RAY_SERVE_HAPROXY_TIMEOUT_CONNECT_S":           "5",
			"RAY_SERVE_ENABLE_HAPROXY_OPTIMIZED_CONFIG":     "0",
			"RAY_SERVE_HAPROXY_MAXCONN":                     "2000",
			"RAY_SERVE_HAPROXY_HEALTH_CHECK_INTER":          "2s",
			"RAY_SERVE_HAPROXY_CONFIG_FILE_LOC":             "/run/serve/haproxy.cfg",
			"RAY_SERVE_HAPROXY_SOCKET_PATH":                 "/run/serve/admin.sock",
			"RAY_SERVE_HAPROXY_STATS_PORT":                  "9999", // ignored before master
			"RAY_SERVE_HAPROXY_SYSLOG_PORT":                 "5140",
			"RAY_SERVE_HAPROXY_METRICS_PORT":                "9102",
			"RAY_SERVE_HAPROXY_HARD_STOP_AFTER_S":           "60",
			"RAY_SERVE_HAPROXY_HEALTH_CHECK_FASTINTER":      "100ms",
			"RAY_SERVE_HAPROXY_HEALTH_CHECK_DOWNINTER":      "1s",
			"RAY_SERVE_HAPROXY_HEALTH_CHECK_FALL":           "3",
			"RAY_SERVE_HAPROXY_HEALTH_CHECK_RISE":           "1",
			"RAY_SERVE_HAPROXY_NBTHREAD":                    "2",
			"RAY_SERVE_HAPROXY_TIMEOUT_CLIENT_S":            "600",
			"RAY_SERVE_INGRESS_REQUEST_ROUTER_FORWARD_BODY": "1", // master only
		}, HTTPHost: "127.0.0.1", HTTPPort: 18000, StatsPort: 18404}},
		{name: "v255_draining", opts: Options{Shape: Shape255, Apps: twoApps(), Draining: true}},
		{name: "v255_no_routes", opts: Options{Shape: Shape255}},
		{name: "v255_no_replicas", opts: Options{Shape: Shape255, Apps: []App{{Name: "a", RoutePrefix: "/a"}}}},
		{name: "v1_default", opts: Options{Shape: ShapeV1, Apps: twoApps()}},
		{name: "master_grpc_router", opts: Options{Shape: ShapeMaster, Apps: masterApps(), GRPCPort: 9000,
			GRPCFallback: &Target{Name: "SERVE_PROXY_ACTOR-head", Host: "10.0.0.1", Port: 9000},
			Env:          map[string]string{"RAY_SERVE_INGRESS_REQUEST_ROUTER_METRICS_ENABLED": "1", "RAY_SERVE_HAPROXY_INGRESS_RETRIES": "2", "RAY_SERVE_HAPROXY_INGRESS_RETRY_ON": "conn-failure"}}},
		{name: "master_h26", opts: Options{Shape: ShapeMaster, Apps: masterApps(), GRPCPort: 9000, H26Compat: true}},
		{name: "master_http_only", opts: Options{Shape: ShapeMaster, Apps: twoApps()}},
		// V1 reads neither TCP_NODELAY nor BALANCE_ALGORITHM, nor anything
		// master added.
		{name: "v1_env", opts: Options{Shape: ShapeV1, Apps: twoApps(), Env: map[string]string{
			"RAY_SERVE_HAPROXY_TCP_NODELAY":       "1",
			"RAY_SERVE_HAPROXY_BALANCE_ALGORITHM": "roundrobin",
			"RAY_SERVE_HAPROXY_TIMEOUT_SERVER_S":  "30",
			"RAY_SERVE_HAPROXY_SYSLOG_PORT":       "5140",
			"RAY_SERVE_HAPROXY_STATS_PORT":        "9999",
			"RAY_SERVE_HAPROXY_LOG_TARGET":        "10.0.0.9:514",
			"RAY_SERVE_HAPROXY_TUNE_BUFSIZE":      "32768",
		}, HTTPHost: "0.0.0.0", KeepAliveTimeoutS: 30}},
		// Apps with gRPC, routers and a fallback render as plain HTTP apps
		// before master; HadServers keeps /-/healthz ready without replicas.
		{name: "v255_master_apps", opts: Options{Shape: Shape255, Apps: append(masterApps(), App{Name: "empty", RoutePrefix: "/empty"}),
			GRPCPort: 9000, HadServers: true, HTTPHost: "::"}},
		{name: "v255_had_servers", opts: Options{Shape: Shape255, Apps: []App{{Name: "a", RoutePrefix: "/a"}}, HadServers: true}},
		// Every master-only variable, the forward-body router path and a
		// router backend with its own server timeout.
		{name: "master_env", opts: Options{Shape: ShapeMaster, Apps: masterApps(), GRPCPort: 9000, HTTPHost: "127.0.0.1", HTTPPort: 18000,
			Env: map[string]string{
				"RAY_SERVE_HAPROXY_TCP_NODELAY":                      "0",
				"RAY_SERVE_HAPROXY_LOG_TARGET":                       "10.0.0.9:5514",
				"RAY_SERVE_HAPROXY_STATS_PORT":                       "9404",
				"RAY_SERVE_HAPROXY_SYSLOG_PORT":                      "5140", // ignored in master
				"RAY_SERVE_HAPROXY_TUNE_BUFSIZE":                     "32768",
				"RAY_SERVE_HAPROXY_H2_MAX_FRAME_SIZE":                "32768",
				"RAY_SERVE_HAPROXY_H2_BE_INITIAL_WINDOW_SIZE":        "131070",
				"RAY_SERVE_HAPROXY_H2_BE_MAX_CONCURRENT_STREAMS":     "200",
				"RAY_SERVE_HAPROXY_H2_FE_INITIAL_WINDOW_SIZE":        "262140",
				"RAY_SERVE_HAPROXY_H2_FE_MAX_CONCURRENT_STREAMS":     "300",
				"RAY_SERVE_HAPROXY_INGRESS_TIMEOUT_SERVER_S":         "7",
				"RAY_SERVE_HAPROXY_INGRESS_REQUEST_ROUTER_TIMEOUT_S": "3",
				"RAY_SERVE_HAPROXY_INGRESS_REQUEST_ROUTER_BUFSIZE":   "131072",
				"RAY_SERVE_INGRESS_REQUEST_ROUTER_FORWARD_BODY":      "1",
				"RAY_SERVE_HAPROXY_METRICS_SOCKET_PATH":              "/run/serve/metrics.sock", // metrics are off
				"RAY_SERVE_ENABLE_HAPROXY_OPTIMIZED_CONFIG":          "0",
				"RAY_SERVE_HAPROXY_HARD_STOP_AFTER_S":                "",
				"RAY_SERVE_HAPROXY_TIMEOUT_CONNECT_S":                "5",
				"RAY_SERVE_HAPROXY_HEALTH_CHECK_FASTINTER":           "",
			}}},
		// Draining with several gRPC apps and no gRPC fallback: the gRPC
		// health rules fail, ListApplications is unavailable and unmatched
		// calls go to default_grpc_backend.
		{name: "master_draining", opts: Options{Shape: ShapeMaster, GRPCPort: 9000, Draining: true, Apps: append(masterApps(),
			App{Name: "grpc_two", GRPC: true, Replicas: []Target{{Name: "SERVE_REPLICA::grpc_two#G#h1", Host: "127.0.0.1", Port: 40002}},
				Fallback: &Target{Name: "SERVE_PROXY_ACTOR-head", Host: "10.0.0.1", Port: 9000}})}},
		// Before any route, gRPC on: no gRPC apps, so the default gRPC backend.
		{name: "master_no_routes", opts: Options{Shape: ShapeMaster, GRPCPort: 9000}},
		// master's head node is ready without replicas; routers without
		// replica IDs give no router.
		{name: "master_head_no_replicas", opts: Options{Shape: ShapeMaster, IsHead: true, Apps: []App{{Name: "a", RoutePrefix: "/a",
			IngressRouters: []Target{{Name: "SERVE_REPLICA::a#Router#r1", Host: "127.0.0.1", Port: 30020}}}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Render(tc.opts)
			require.NoError(t, err)
			testenv.Golden(t, filepath.Join("testdata", tc.name+".golden"), got)
		})
	}
}

// TestRenderQuirks checks the jinja whitespace quirks directly, so a golden
// refreshed by mistake cannot hide their loss.
func TestRenderQuirks(t *testing.T) {
	for _, shape := range []Shape{ShapeV1, Shape255, ShapeMaster} {
		t.Run(string(shape), func(t *testing.T) {
			out, err := Render(Options{Shape: shape, Apps: twoApps()})
			require.NoError(t, err)
			s := string(out)
			assert.True(t, strings.HasSuffix(s, "  stats refresh 1s\n"), "ends with the stats block and one newline")
			assert.False(t, strings.HasSuffix(s, "\n\n"))
			// timeout connect, server, http-request and queue are unset.
			fourSpaces := 0
			for _, l := range strings.Split(s, "\n") {
				if l == "    " {
					fourSpaces++
				}
			}
			assert.Equal(t, 4, fourSpaces, "unset timeouts are lines of exactly four spaces")
			assert.Contains(t, s, "\nlisten stats\n  bind *:8404\n  stats enable\n  stats uri /stats\n  stats refresh 1s\n")
			assert.Contains(t, s, "\n    server SERVE_REPLICA_root_app-Ingress-a1 127.0.0.1:30001 check\n")
			assert.Contains(t, s, "\nbackend http-root_app\n")
			idxApp1 := strings.Index(s, "use_backend http-app1 ")
			idxRoot := strings.Index(s, "use_backend http-root_app ")
			assert.Less(t, idxApp1, idxRoot, "longest prefix first")
		})
	}
}

func TestSafeName(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"replica", "SERVE_REPLICA::app#dep#abc", "SERVE_REPLICA_app-dep-abc"},
		{"slash and space", "http-my app/v1", "http-my_app.v1"},
		{"unicode run", "http-café★", "http-caf_"},
		{"proxy", "SERVE_PROXY_ACTOR-0123abc", "SERVE_PROXY_ACTOR-0123abc"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, SafeName(tc.in))
		})
	}
}

func TestReadEnvErrors(t *testing.T) {
	_, err := ReadEnv(map[string]string{"RAY_SERVE_HAPROXY_MAXCONN": "lots", "RAY_SERVE_HAPROXY_NBTHREAD": "2.5"}, Shape255)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "RAY_SERVE_HAPROXY_MAXCONN")
	assert.Contains(t, err.Error(), "RAY_SERVE_HAPROXY_NBTHREAD")
}

// TestRenderPassesHAProxyCheck runs `haproxy -c` on rendered configs with
// temp paths, a small maxconn and free ports.
func TestRenderPassesHAProxyCheck(t *testing.T) {
	bin := testenv.HAProxy(t)
	tests := []struct {
		name string
		opts func(env map[string]string) Options
	}{
		{"2.55", func(env map[string]string) Options {
			env["RAY_SERVE_HAPROXY_TCP_NODELAY"] = "1"
			return Options{Shape: Shape255, Env: env, Apps: twoApps()}
		}},
		{"v1", func(env map[string]string) Options { return Options{Shape: ShapeV1, Env: env, Apps: twoApps()} }},
		{"master h26", func(env map[string]string) Options {
			return Options{Shape: ShapeMaster, Env: env, Apps: masterApps(), GRPCPort: testenv.FreePort(t), H26Compat: true,
				GRPCFallback: &Target{Name: "SERVE_PROXY_ACTOR-head", Host: "127.0.0.1", Port: 9000}}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := testenv.RayEnvMap(t)
			opts := tc.opts(env)
			opts.HTTPPort, opts.StatsPort = testenv.FreePort(t), testenv.FreePort(t)
			s, err := ReadEnv(env, opts.Shape)
			require.NoError(t, err)
			require.NoError(t, PrepareDirs(s))
			require.NoError(t, WriteLua(s.ConfigFile))
			cfg, err := Render(opts)
			require.NoError(t, err)
			require.NoError(t, WriteConfig(s.ConfigFile, cfg))
			out, err := exec.Command(bin, "-c", "-f", s.ConfigFile).CombinedOutput()
			assert.NoError(t, err, "haproxy -c:\n%s", out)
			assert.NotContains(t, string(out), "[ALERT]")
		})
	}
}

// TestRenderMasterIsFatalOn26 documents why H26Compat exists: the faithful
// master shape with gRPC uses tune.h2.fe/be keywords haproxy 2.6 rejects.
func TestRenderMasterIsFatalOn26(t *testing.T) {
	bin := testenv.HAProxy(t)
	if v, _ := exec.Command(bin, "-v").Output(); !bytes.Contains(v, []byte("version 2.6.")) {
		t.Logf("haproxy is not 2.6; nothing to show")
		return
	}
	env := testenv.RayEnvMap(t)
	s, err := ReadEnv(env, ShapeMaster)
	require.NoError(t, err)
	require.NoError(t, PrepareDirs(s))
	cfg, err := Render(Options{Shape: ShapeMaster, Env: env, Apps: twoApps(), GRPCPort: testenv.FreePort(t), HTTPPort: testenv.FreePort(t), StatsPort: testenv.FreePort(t)})
	require.NoError(t, err)
	require.NoError(t, WriteConfig(s.ConfigFile, cfg))
	out, err := exec.Command(bin, "-c", "-f", s.ConfigFile).CombinedOutput()
	assert.Error(t, err)
	assert.Contains(t, string(out), "tune.h2.be.initial-window-size")
}

// FuzzSafeName checks SafeName against Ray's definition, a replace then a
// regular expression.
func FuzzSafeName(f *testing.F) {
	for _, s := range []string{"SERVE_REPLICA::app#dep#abc", "http-my app/v1", "http-café★", "a\xffb", "##//", ""} {
		f.Add(s)
	}
	unsafe := regexp.MustCompile(`[^A-Za-z0-9._-]+`)
	f.Fuzz(func(t *testing.T, name string) {
		want := unsafe.ReplaceAllString(strings.NewReplacer("#", "-", "/", ".").Replace(name), "_")
		assert.Equal(t, want, SafeName(name))
	})
}

// TestRenderUnknownShape pins what a shape ParseShape refuses renders as:
// Ray 2.55's config.
func TestRenderUnknownShape(t *testing.T) {
	want, err := Render(Options{Shape: Shape255, Apps: twoApps()})
	require.NoError(t, err)
	got, err := Render(Options{Shape: "x", Apps: twoApps()})
	require.NoError(t, err)
	assert.Equal(t, string(want), string(got))
}

func TestShapeFor(t *testing.T) {
	tests := []struct {
		release envmap.Release
		want    Shape
	}{
		{envmap.ReleaseV1, ShapeV1},
		{envmap.Release255, Shape255},
		{envmap.ReleaseMaster, ShapeMaster},
		{envmap.ReleaseMasterJune, ShapeMaster}, // no template of its own
		{"", Shape255},
	}
	for _, tc := range tests {
		t.Run(string(tc.release), func(t *testing.T) {
			assert.Equal(t, tc.want, ShapeFor(tc.release))
		})
	}
}
