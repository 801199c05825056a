// Command raysim is an emulator of Ray Serve's haproxy process contract, a
// stand-in for `serve run` in tests and the demo. It is not Ray: it renders
// Ray-shaped configs, starts and reloads haproxy the way Ray's
// HAProxyManager does, and serves from emulated replicas.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/serve-launch/serve-launch/internal/raycfg"
	"github.com/serve-launch/serve-launch/internal/testing/raysim"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	code := run(ctx, os.Args[1:], os.Stderr)
	stop()
	os.Exit(code)
}

const usage = `usage: raysim [flags]

raysim EMULATES Ray Serve's haproxy process contract; it is not Ray and its
results are not Ray results. Like Ray 2.55 with RAY_SERVE_ENABLE_HA_PROXY=1 it:
  - reads RAY_SERVE_HAPROXY_* from its environment (Ray's defaults, e.g.
    MAXCONN 20000: set RAY_SERVE_HAPROXY_MAXCONN=2000 on small machines),
  - writes the config at RAY_SERVE_HAPROXY_CONFIG_FILE_LOC under
    flock(<cfg>.lock), rewritten in place (-shape master: under
    <dir>/<node_id>/, with the admin socket and server state, as master's
    HAProxyManager does; the status file names the paths),
  - runs $RAY_SERVE_HAPROXY_BINARY_PATH (default "haproxy" on PATH; with
    -plain-haproxy always "haproxy" on PATH, as V1) as
    <bin> -db -f <cfg> [-dR], stdout/stderr piped and never read,
  - waits for "show info" on RAY_SERVE_HAPROXY_SOCKET_PATH (0.5 s poll, 5 s),
  - reloads with "... -sf <old pid> [-x <admin.sock>]" on each routing change,
  - SIGKILLs every haproxy it started on SIGTERM/SIGINT, then exits 0.
On SIGUSR1 it adds a replica to app1 and reloads, as Ray does when a
deployment scales up (a Ray reload on demand, for tests).
Replicas are HTTP servers on 127.0.0.1; app N is routed at /appN.
When serving it prints "raysim: ready http=HOST:PORT ..." to stderr.

flags:
`

func run(ctx context.Context, args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("raysim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		fs.PrintDefaults()
	}
	var (
		cfg         raysim.SimConfig
		shape       = fs.String("shape", "2.55", "config shape: 2.55, v1 or master (Ray master of late May 2026)")
		metricsPort = fs.Int("metrics-port", 0, "sets RAY_SERVE_HAPROXY_METRICS_PORT (Ray default 9101)")
	)
	fs.IntVar(&cfg.Apps, "apps", 1, "number of applications (app1 at /app1, ...)")
	fs.IntVar(&cfg.Replicas, "replicas", 2, "replicas per application")
	fs.StringVar(&cfg.HTTPHost, "http-host", "127.0.0.1", "http_options.host (master binds all interfaces regardless)")
	fs.IntVar(&cfg.HTTPPort, "http-port", 8000, "http_options.port: the frontend port")
	fs.IntVar(&cfg.StatsPort, "stats-port", 0, "listen stats port (0: 8404, which real 2.55 hard-codes; master reads RAY_SERVE_HAPROXY_STATS_PORT)")
	fs.IntVar(&cfg.GRPCPort, "grpc-port", 0, "master only: add a gRPC frontend and app on this port")
	fs.BoolVar(&cfg.H26Compat, "h26-compat", false, "master only: render tune.h2 lines in haproxy 2.6 form")
	fs.BoolVar(&cfg.PlainHAProxy, "plain-haproxy", false, "run plain haproxy from PATH, as V1 does, ignoring RAY_SERVE_HAPROXY_BINARY_PATH")
	fs.BoolVar(&cfg.RoutesAtStart, "routes-at-start", false, "start haproxy with every app already routed, which Ray never does (by default the first haproxy has no applications and they come by a reload, as in Ray, whose first start precedes the first target-group update)")
	fs.DurationVar(&cfg.ReadyTimeout, "ready-timeout", 5*time.Second, "readiness poll bound (Ray: 5s)")
	fs.DurationVar(&cfg.ReadyInterval, "ready-interval", 500*time.Millisecond, "readiness poll period (Ray: 0.5s)")
	fs.DurationVar(&cfg.ReplicaDelay, "replica-delay", 0, "delay every application request on every replica")
	fs.DurationVar(&cfg.SlowReplicaDelay, "slow-replica-delay", 0, "delay application requests on the first replica of app1 only")
	fs.IntVar(&cfg.Churn, "churn", 0, "number of Ray-style reloads to do after ready (add/remove a replica of app1)")
	fs.DurationVar(&cfg.ChurnInterval, "churn-interval", time.Second, "pause between churn reloads")
	fs.DurationVar(&cfg.ReplicaGrace, "replica-grace", 2*time.Second, "how long a replica removed by churn keeps serving before it stops (Ray's graceful_shutdown_wait_loop_s; negative: at once)")
	fs.StringVar(&cfg.StatusFile, "status-file", "", "write a JSON status (ports, haproxy pid, replica addresses) here after start and each reload")
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "raysim: error: unexpected arguments %q\n", fs.Args())
		return 2
	}
	sh, err := raycfg.ParseShape(*shape)
	if err != nil {
		fmt.Fprintf(stderr, "raysim: error: %v\n", err)
		return 2
	}
	cfg.Shape = sh
	cfg.Environ = os.Environ()
	if *metricsPort != 0 {
		cfg.Environ = append(cfg.Environ, fmt.Sprintf("RAY_SERVE_HAPROXY_METRICS_PORT=%d", *metricsPort))
	}
	cfg.Log = stderr
	// SIGUSR1: scale app1 up by one replica, a Ray reload on demand.
	usr1 := make(chan os.Signal, 1)
	signal.Notify(usr1, syscall.SIGUSR1)
	defer signal.Stop(usr1)
	scale := make(chan struct{})
	go func() {
		for range usr1 {
			select {
			case scale <- struct{}{}:
			case <-ctx.Done():
				return
			}
		}
	}()
	cfg.ScaleUp = scale
	if err := raysim.RunSim(ctx, cfg); err != nil {
		fmt.Fprintf(stderr, "raysim: error: %v\n", err)
		return 1
	}
	return 0
}
