package raycfg

import (
	"fmt"
	"testing"
)

// manyApps returns n apps of replicas servers each, as a large cluster's
// routing update.
func manyApps(n, replicas int) []App {
	apps := make([]App, n)
	for i := range apps {
		apps[i] = App{Name: fmt.Sprintf("app%d", i), RoutePrefix: fmt.Sprintf("/app%d", i)}
		for j := range replicas {
			apps[i].Replicas = append(apps[i].Replicas, Target{
				Name: fmt.Sprintf("SERVE_REPLICA::app%d#Model#r%d", i, j), Host: "10.0.0.1", Port: 30000 + j})
		}
	}
	return apps
}

// BenchmarkRenderSettings measures one render from settings already read,
// which is what raysim does on every routing update.
func BenchmarkRenderSettings(b *testing.B) {
	cases := []struct {
		name string
		opts Options
	}{
		{"2.55/5 servers", Options{Shape: Shape255, Apps: twoApps()}},
		{"2.55/4096 servers", Options{Shape: Shape255, Apps: manyApps(64, 64)}},
		{"master/grpc router", Options{Shape: ShapeMaster, Apps: masterApps(), GRPCPort: 9000}},
		{"master/4096 servers", Options{Shape: ShapeMaster, Apps: manyApps(64, 64), GRPCPort: 9000}},
	}
	for _, c := range cases {
		s, err := ReadEnv(nil, c.opts.Shape)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				RenderSettings(c.opts, s)
			}
		})
	}
}

// BenchmarkReadEnv measures reading Ray's settings, which Render does on
// every call.
func BenchmarkReadEnv(b *testing.B) {
	env := map[string]string{"RAY_SERVE_HAPROXY_MAXCONN": "2000", "RAY_SERVE_HAPROXY_TIMEOUT_SERVER_S": "30"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ReadEnv(env, Shape255); err != nil {
			b.Fatal(err)
		}
	}
}
