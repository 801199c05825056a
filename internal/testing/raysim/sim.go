package raysim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/serve-launch/serve-launch/internal/admin"
	"github.com/serve-launch/serve-launch/internal/raycfg"
)

// SimConfig configures [RunSim], the stand-in for `serve run` that the
// raysim command runs. Zero values mean Ray's defaults where Ray has one.
type SimConfig struct {
	// Shape is the template generation (default Shape255).
	Shape raycfg.Shape
	// Apps is the number of applications (app1 at /app1, app2 at /app2, ...).
	Apps int
	// Replicas is the number of replicas per application.
	Replicas int
	// HTTPHost and HTTPPort are http_options (Ray: 127.0.0.1:8000).
	HTTPHost string
	HTTPPort int
	// StatsPort overrides `listen stats` (real 2.55 hard-codes 8404).
	StatsPort int
	// GRPCPort adds a gRPC app and frontend (master only; 0 = off).
	GRPCPort int
	// H26Compat uses haproxy 2.6 forms of master's tune.h2 lines.
	H26Compat bool
	// Environ is the environment read like Ray's constants.py and passed to
	// haproxy; nil means this process's.
	Environ []string
	// PlainHAProxy runs `haproxy` from PATH, as V1 does.
	PlainHAProxy bool
	// RoutesAtStart starts haproxy with every app already routed, which Ray
	// never does (one reload fewer). By default the emulator follows Ray:
	// HAProxyManager's constructor starts haproxy before the first
	// target-group update arrives, so the first haproxy runs a config with
	// no applications and they come by a reload (-sf, -x); the counts in
	// the status file and the log include that reload.
	RoutesAtStart bool
	// ReadyTimeout and ReadyInterval override Ray's 5 s / 0.5 s poll.
	ReadyTimeout, ReadyInterval time.Duration
	// ReplicaDelay slows every replica's application handler.
	ReplicaDelay time.Duration
	// SlowReplicaDelay slows only the first replica of app1.
	SlowReplicaDelay time.Duration
	// Churn is the number of Ray-style reloads to do after ready, each adding
	// or removing a replica of app1; ChurnInterval is the pause between them.
	Churn         int
	ChurnInterval time.Duration
	// ReplicaGrace is how long a replica removed from routing keeps serving
	// before it shuts down (default 2 s, Ray's graceful_shutdown_wait_loop_s):
	// Ray stops a replica only after routing moved away from it, and an
	// haproxy still finishing its soft stop may send it a last request.
	// Negative means at once.
	ReplicaGrace time.Duration
	// ScaleUp, when it delivers, adds a replica to app1 and reloads, as Ray
	// does when a deployment scales up: tests use it to make a Ray reload
	// happen at a moment of their choosing (the raysim command sends one
	// on SIGUSR1).
	ScaleUp <-chan struct{}
	// StatusFile, if set, receives a JSON [Status] after start and every reload.
	StatusFile string
	// Log receives the emulator's lines (the command passes stderr).
	Log io.Writer
}

// Status is what RunSim writes to SimConfig.StatusFile.
type Status struct {
	Emulated string `json:"emulated"`
	// PID is the emulator's own process (SIGUSR1 to it scales app1 up).
	PID         int          `json:"pid"`
	Shape       raycfg.Shape `json:"shape"`
	HTTPAddr    string       `json:"http_addr"`
	HTTPPort    int          `json:"http_port"`
	StatsPort   int          `json:"stats_port"`
	MetricsPort int          `json:"metrics_port"`
	GRPCPort    int          `json:"grpc_port,omitempty"`
	HAProxyPID  int          `json:"haproxy_pid"`
	LivePIDs    []int        `json:"live_pids"`
	Argv        []string     `json:"argv"`
	ConfigFile  string       `json:"config_file"`
	SocketPath  string       `json:"socket_path"`
	StateFile   string       `json:"server_state_file"`
	// Reloads counts every reload, the one that brings the first routes
	// included (the churn's lines count the churn's own).
	Reloads     int         `json:"reloads"`
	ReloadFails int         `json:"reload_failures"`
	LastError   string      `json:"last_error,omitempty"`
	Apps        []StatusApp `json:"apps"`
}

// StatusApp is one application in [Status].
type StatusApp struct {
	Name        string          `json:"name"`
	RoutePrefix string          `json:"route_prefix"`
	Backend     string          `json:"backend"`
	Replicas    []StatusReplica `json:"replicas"`
}

// StatusReplica is one replica: its actor name, haproxy server name and address.
type StatusReplica struct {
	Name   string `json:"name"`
	Server string `json:"server"`
	Addr   string `json:"addr"`
}

// emulatedNote marks every status file: these are not Ray results.
const emulatedNote = "raysim: an emulation of Ray Serve's haproxy process contract, not Ray"

type sim struct {
	cfg      SimConfig
	m        *Manager
	mu       sync.Mutex
	apps     [][]*Replica // replicas per app, in config order
	nextID   int
	retiring sync.WaitGroup
	// stopRetiring ends the grace of removed replicas at exit.
	stopRetiring <-chan struct{}
	fails        int
	// startReloads are the reloads before the churn (the one that brings
	// the first routes): the churn's lines count its own.
	startReloads int
	lastErr      string
	stats        int
	metrics      int
	httpAddr     string
}

// RunSim starts replicas and haproxy the way Ray Serve would, prints
// "raysim: ready http=..." to cfg.Log once every app backend has a server
// UP, optionally churns replicas, and runs until ctx ends; then it SIGKILLs
// every haproxy it started, as Ray does, and closes the replicas.
func RunSim(ctx context.Context, cfg SimConfig) (err error) {
	if cfg.Log == nil {
		cfg.Log = io.Discard
	}
	if cfg.Apps <= 0 {
		cfg.Apps = 1
	}
	if cfg.Replicas <= 0 {
		cfg.Replicas = 1
	}
	if cfg.HTTPHost == "" {
		cfg.HTTPHost = "127.0.0.1" // Ray's DEFAULT_HTTP_HOST
	}
	if cfg.HTTPPort == 0 {
		cfg.HTTPPort = 8000
	}
	if cfg.ChurnInterval == 0 {
		cfg.ChurnInterval = time.Second
	}
	if cfg.ReplicaGrace == 0 {
		cfg.ReplicaGrace = 2 * time.Second
	}
	s := &sim{cfg: cfg}
	defer s.closeReplicas()
	// Replicas being retired go after haproxy, as in Ray.
	stopRetiring := make(chan struct{})
	defer s.retiring.Wait()
	defer close(stopRetiring)
	s.stopRetiring = stopRetiring

	for a := 0; a < cfg.Apps; a++ {
		var rs []*Replica
		for i := 0; i < cfg.Replicas; i++ {
			r, err := s.newReplica(a)
			if err != nil {
				return err
			}
			rs = append(rs, r)
		}
		s.apps = append(s.apps, rs)
	}
	if cfg.SlowReplicaDelay > 0 {
		s.apps[0][0].SetDelay(cfg.SlowReplicaDelay)
	}

	var firstApps []raycfg.App
	if cfg.RoutesAtStart {
		firstApps = s.appList()
	}
	m, err := NewManager(ManagerConfig{
		Options: raycfg.Options{Shape: cfg.Shape, Apps: firstApps, HTTPHost: cfg.HTTPHost, HTTPPort: cfg.HTTPPort,
			StatsPort: cfg.StatsPort, GRPCPort: cfg.GRPCPort, H26Compat: cfg.H26Compat},
		Environ:       cfg.Environ,
		PlainHAProxy:  cfg.PlainHAProxy,
		ReadyTimeout:  cfg.ReadyTimeout,
		ReadyInterval: cfg.ReadyInterval,
	})
	if err != nil {
		return err
	}
	s.m = m
	set := m.Settings()
	s.metrics = set.MetricsPort
	s.stats = cfg.StatsPort
	if s.stats == 0 {
		s.stats = 8404
		if m.cfg.Options.Shape == raycfg.ShapeMaster {
			s.stats = set.StatsPort
		}
	}
	host := cfg.HTTPHost
	if host == "0.0.0.0" || host == "*" || host == "::" || m.cfg.Options.Shape == raycfg.ShapeMaster {
		host = "127.0.0.1"
	}
	s.httpAddr = fmt.Sprintf("%s:%d", host, cfg.HTTPPort)
	// Stop is SIGKILL to every process started, whatever happens below.
	defer m.Stop()

	if err := m.Start(ctx); err != nil {
		return err
	}
	if !cfg.RoutesAtStart {
		// The first target-group update: Ray reloads once start is done.
		if err := m.Update(ctx, s.appList()); err != nil {
			return err
		}
	}
	s.startReloads = m.Reloads()
	if err := s.waitServing(ctx); err != nil {
		return err
	}
	if err := s.writeStatus(); err != nil {
		return err
	}
	fmt.Fprintf(cfg.Log, "raysim: ready http=%s stats=%d metrics=%d haproxy_pid=%d config=%s (emulated Ray Serve, not Ray)\n",
		s.httpAddr, s.stats, s.metrics, m.PID(), set.ConfigFile)

	exited := m.Exited()
	var churn <-chan time.Time
	done := 0
	if cfg.Churn > 0 {
		t := time.NewTicker(cfg.ChurnInterval)
		defer t.Stop()
		churn = t.C
	}
	for {
		select {
		case <-ctx.Done():
			fmt.Fprintf(cfg.Log, "raysim: stopping: SIGKILL to haproxy pids %v\n", m.LivePIDs())
			return nil
		case <-exited:
			// Ray notices through its health checks; the emulator only says so.
			fmt.Fprintf(cfg.Log, "raysim: haproxy pid %d exited\n", m.PID())
			exited = nil
		case <-cfg.ScaleUp:
			s.scaleUp(ctx)
			exited = m.Exited()
		case <-churn:
			s.churnOnce(ctx, done)
			done++
			exited = m.Exited()
			if done >= cfg.Churn {
				churn = nil
				fmt.Fprintf(cfg.Log, "raysim: churn done: %d reloads, %d failed\n", m.Reloads()-s.startReloads, s.fails)
			}
		}
	}
}

func (s *sim) newReplica(app int) (*Replica, error) {
	s.nextID++
	r, err := StartReplica(fmt.Sprintf("SERVE_REPLICA::app%d#Model#%d", app+1, s.nextID), 0)
	if err != nil {
		return nil, err
	}
	r.SetDelay(s.cfg.ReplicaDelay)
	return r, nil
}

func (s *sim) appList() []raycfg.App {
	var apps []raycfg.App
	for i, rs := range s.apps {
		apps = append(apps, raycfg.App{Name: fmt.Sprintf("app%d", i+1), RoutePrefix: fmt.Sprintf("/app%d", i+1), Replicas: targets(rs)})
	}
	if s.cfg.GRPCPort != 0 {
		apps = append(apps, raycfg.App{Name: "grpc_app", GRPC: true})
	}
	return apps
}

func targets(rs []*Replica) []raycfg.Target {
	var ts []raycfg.Target
	for _, r := range rs {
		ts = append(ts, r.Target())
	}
	return ts
}

// churnOnce is one Ray-style routing change on app1: even steps add a
// replica, odd steps remove the oldest (keeping one). A removed replica is
// shut down only after the reload, as Ray stops replicas after routing
// moved away from them. A failed reload is logged and counted, and the old
// haproxy keeps serving, as in Ray.
func (s *sim) churnOnce(ctx context.Context, step int) {
	var gone *Replica
	if step%2 == 0 || len(s.apps[0]) <= 1 {
		r, err := s.newReplica(0)
		if err != nil {
			s.fail(err)
			return
		}
		s.apps[0] = append(s.apps[0], r)
	} else {
		gone = s.apps[0][0]
		s.apps[0] = s.apps[0][1:]
		// The status file drops a removed replica at this reload; this line
		// keeps its address for whoever waits for it to stop.
		fmt.Fprintf(s.cfg.Log, "raysim: removing replica %s server=%s addr=%s\n", gone.Name, raycfg.SafeName(gone.Name), gone.Addr())
	}
	s.reload(ctx, gone)
}

// scaleUp adds a replica to app1 and reloads, as Ray does when a
// deployment scales up.
func (s *sim) scaleUp(ctx context.Context) {
	r, err := s.newReplica(0)
	if err != nil {
		s.fail(err)
		return
	}
	s.apps[0] = append(s.apps[0], r)
	s.reload(ctx, nil)
}

// reload is Ray's reload after a routing change on app1 (s.apps holds the
// new routing); a replica removed from it (gone) is retired after the
// reload, as Ray stops replicas after routing moved away from them.
func (s *sim) reload(ctx context.Context, gone *Replica) {
	err := s.m.Update(ctx, s.appList())
	if err != nil {
		s.fail(err)
	} else {
		fmt.Fprintf(s.cfg.Log, "raysim: reload %d haproxy_pid=%d replicas(app1)=%d\n", s.m.Reloads()-s.startReloads, s.m.PID(), len(s.apps[0]))
	}
	if gone != nil {
		s.retire(gone)
	}
	if err := s.writeStatus(); err != nil {
		fmt.Fprintf(s.cfg.Log, "raysim: %v\n", err)
	}
}

// retire shuts r down after the grace period, or at once when RunSim ends.
func (s *sim) retire(r *Replica) {
	s.retiring.Add(1)
	go func() {
		defer s.retiring.Done()
		if s.cfg.ReplicaGrace > 0 {
			t := time.NewTimer(s.cfg.ReplicaGrace)
			select {
			case <-t.C:
			case <-s.stopRetiring:
				t.Stop()
				r.Close()
				return
			}
		}
		// A request still running after 5 s more is past any grace Ray
		// gives; the listener is closed either way and the emulator's exit
		// ends what is left.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = r.Shutdown(ctx)
		cancel()
	}()
}

func (s *sim) fail(err error) {
	s.mu.Lock()
	s.fails++
	s.lastErr = err.Error()
	s.mu.Unlock()
	fmt.Fprintf(s.cfg.Log, "raysim: reload failed: %s\n", strings.ReplaceAll(err.Error(), "\n", " | "))
}

// waitServing stands in for HAProxyManager.serving(): every app backend
// has a server whose status is exactly "UP", polled every 0.2 s (bounded
// here by 30 s). It is stricter than Ray's: serving() compares the set of
// configured backends that `show stat` lists with those that have a server
// UP, so a renamed or missing backend, or a failed `show stat` (an empty
// set), counts as serving there and as not serving here.
func (s *sim) waitServing(ctx context.Context) error {
	want := map[string]bool{}
	for _, a := range s.appList() {
		if len(a.Replicas) > 0 && !strings.HasPrefix(strings.ToLower(raycfg.BackendName(a)), "grpc") {
			want[raycfg.BackendName(a)] = true
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		rows, err := admin.ShowStat(ctx, s.m.Settings().SocketPath)
		if err == nil {
			up := map[string]bool{}
			for _, r := range rows {
				if want[r["pxname"]] && r["svname"] != "BACKEND" && r["status"] == "UP" {
					up[r["pxname"]] = true
				}
			}
			if len(up) == len(want) {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return errors.New("raysim: app backends not serving within 30s")
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func (s *sim) status() Status {
	set := s.m.Settings()
	st := Status{
		Emulated: emulatedNote, PID: os.Getpid(), Shape: s.m.cfg.Options.Shape,
		HTTPAddr: s.httpAddr, HTTPPort: s.cfg.HTTPPort, StatsPort: s.stats, MetricsPort: s.metrics, GRPCPort: s.cfg.GRPCPort,
		HAProxyPID: s.m.PID(), LivePIDs: s.m.LivePIDs(), Argv: s.m.LastArgs(),
		ConfigFile: set.ConfigFile, SocketPath: set.SocketPath, StateFile: set.ServerStateFile,
		Reloads: s.m.Reloads(),
	}
	s.mu.Lock()
	st.ReloadFails, st.LastError = s.fails, s.lastErr
	s.mu.Unlock()
	for i, rs := range s.apps {
		a := raycfg.App{Name: fmt.Sprintf("app%d", i+1)}
		sa := StatusApp{Name: a.Name, RoutePrefix: "/" + a.Name, Backend: raycfg.BackendName(a)}
		for _, r := range rs {
			sa.Replicas = append(sa.Replicas, StatusReplica{Name: r.Name, Server: raycfg.SafeName(r.Name), Addr: r.Addr()})
		}
		st.Apps = append(st.Apps, sa)
	}
	return st
}

// writeStatus replaces the status file atomically, so a reader never sees
// half of it.
func (s *sim) writeStatus() error {
	if s.cfg.StatusFile == "" {
		return nil
	}
	b, err := json.MarshalIndent(s.status(), "", "  ")
	if err != nil {
		return err
	}
	tmp := s.cfg.StatusFile + ".tmp" + strconv.Itoa(os.Getpid())
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("status file: %w", err)
	}
	if err := os.Rename(tmp, filepath.Clean(s.cfg.StatusFile)); err != nil {
		return fmt.Errorf("status file: %w", err)
	}
	return nil
}

func (s *sim) closeReplicas() {
	for _, rs := range s.apps {
		for _, r := range rs {
			r.Close()
		}
	}
}
