// Package bench measures what serve-launch costs next to haproxy itself: the
// patch engine, the shim on every haproxy start, the data plane behind a
// shimmed haproxy, hot reloads under load and the memory of the shim and the
// launcher. It backs `make bench` (internal/testing/bench/cmd/benchrun), which runs
// every measurement side by side in one run and writes BENCHMARKS.md. No
// measurement runs in `go test`: the package's tests check the statistics,
// the parsers of wrk, go test and spawner output, the configs measured and
// the report.
package bench

import (
	"fmt"
	"path/filepath"

	"github.com/serve-launch/serve-launch/internal/raycfg"
)

// Sizes are the server counts every whole-process measurement covers: a
// small service, a medium one, and the large configs where a per-line cost
// would show.
var Sizes = []int{5, 64, 1024, 4096, 16384}

// EngineSizes are the server counts of the patch engine's Go benchmarks,
// in process: Sizes and one step beyond.
var EngineSizes = []int{5, 64, 1024, 4096, 16384, 65536}

// ReplicasPerApp is how many replicas each app gets in the larger configs, so
// that the number of backends grows with the number of servers as in a real
// deployment (64 servers = 4 apps, 4096 = 256 apps).
const ReplicasPerApp = 16

// ConfigOptions places a benchmark config: where its files live and which
// ports it binds. Zero ports mean Ray's defaults (the config is then only good
// for parsing and `haproxy -c`).
type ConfigOptions struct {
	// Dir holds the config's companions: admin socket, server-state file and
	// 500.http (see [raycfg.PrepareDirs]).
	Dir string
	// HTTPPort, StatsPort and MetricsPort are the frontend, `listen stats`
	// and prometheus ports.
	HTTPPort, StatsPort, MetricsPort int
	// Backends, when set, are the servers of every app in turn (round robin);
	// otherwise servers point at unused ports from 30000 on.
	Backends []raycfg.Target
	// MaxConn is Ray's RAY_SERVE_HAPROXY_MAXCONN; 0 means 2000, small
	// enough for these shared machines.
	MaxConn int
}

// MaxConnFor is the largest maxconn, at most 2000, with which haproxy can
// start a config of servers servers under an open files limit of files:
// haproxy wants about 2 * maxconn + servers + 40 descriptors and refuses
// to start without them (20421 at 16384 servers and maxconn 2000).
func MaxConnFor(servers int, files uint64) int {
	room := (int(min(files, 1<<30)) - servers - 100) / 2
	return max(100, min(2000, room/100*100))
}

// Env is the environment Ray would read for a config placed by o, with the
// small maxconn these shared machines need.
func Env(o ConfigOptions) map[string]string {
	maxconn := o.MaxConn
	if maxconn == 0 {
		maxconn = 2000
	}
	env := map[string]string{
		"RAY_SERVE_HAPROXY_MAXCONN":           fmt.Sprint(maxconn),
		"RAY_SERVE_HAPROXY_CONFIG_FILE_LOC":   filepath.Join(o.Dir, "haproxy.cfg"),
		"RAY_SERVE_HAPROXY_SOCKET_PATH":       filepath.Join(o.Dir, "admin.sock"),
		"RAY_SERVE_HAPROXY_SERVER_STATE_BASE": o.Dir,
		"RAY_SERVE_HAPROXY_SERVER_STATE_FILE": filepath.Join(o.Dir, "server-state"),
	}
	if o.MetricsPort != 0 {
		env["RAY_SERVE_HAPROXY_METRICS_PORT"] = fmt.Sprint(o.MetricsPort)
	}
	return env
}

// Layout splits a server count into apps x replicas: up to [ReplicasPerApp]
// servers are one app, more are apps of ReplicasPerApp replicas each.
func Layout(servers int) (apps, replicas int) {
	if servers <= ReplicasPerApp {
		return 1, servers
	}
	return (servers + ReplicasPerApp - 1) / ReplicasPerApp, ReplicasPerApp
}

// Config renders the config Ray 2.55 would generate for servers replicas
// (see [Layout]), placed by o.
func Config(servers int, o ConfigOptions) ([]byte, error) {
	apps, replicas := Layout(servers)
	var list []raycfg.App
	n := 0
	for a := 1; a <= apps; a++ {
		app := raycfg.App{Name: fmt.Sprintf("app%d", a), RoutePrefix: fmt.Sprintf("/app%d", a)}
		for r := 0; r < replicas && n < servers; r++ {
			t := raycfg.Target{
				Name: fmt.Sprintf("SERVE_REPLICA::app%d#Model#%08d", a, r),
				Host: "127.0.0.1", Port: 30000 + n,
			}
			if len(o.Backends) > 0 {
				b := o.Backends[n%len(o.Backends)]
				t.Host, t.Port = b.Host, b.Port
			}
			app.Replicas = append(app.Replicas, t)
			n++
		}
		list = append(list, app)
	}
	return raycfg.Render(raycfg.Options{
		Shape:     raycfg.Shape255,
		Env:       Env(o),
		Apps:      list,
		HTTPHost:  "127.0.0.1",
		HTTPPort:  o.HTTPPort,
		StatsPort: o.StatsPort,
	})
}

// WriteConfig renders the config for servers into o.Dir/haproxy.cfg, with
// the directories and 500.http Ray prepares beside it, and returns its path.
func WriteConfig(servers int, o ConfigOptions) (string, error) {
	settings, err := raycfg.ReadEnv(Env(o), raycfg.Shape255)
	if err != nil {
		return "", err
	}
	if err := raycfg.PrepareDirs(settings); err != nil {
		return "", err
	}
	data, err := Config(servers, o)
	if err != nil {
		return "", err
	}
	path := settings.ConfigFile
	if err := raycfg.WriteConfig(path, data); err != nil {
		return "", err
	}
	return path, nil
}
