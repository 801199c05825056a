package raysim

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/serve-launch/serve-launch/internal/raycfg"
)

// Replica is an emulated Serve replica: an HTTP server on 127.0.0.1 that
// answers Ray's health check path /-/healthz and /health (each switchable to
// 503), and an application handler on every other path that counts requests
// in flight, remembers the maximum seen, and can be made slow.
type Replica struct {
	// Name is the Ray actor name, `SERVE_REPLICA::<app>#<deployment>#<id>`.
	Name string

	srv      *http.Server
	ln       net.Listener
	inFlight atomic.Int64
	maxSeen  atomic.Int64
	total    atomic.Int64
	healthz  atomic.Int64 // health-check hits on /-/healthz
	health   atomic.Int64 // health-check hits on /health
	failHz   atomic.Bool
	failH    atomic.Bool
	delay    atomic.Int64 // nanoseconds
	stopOnce sync.Once
	done     chan struct{}
}

// StartReplica listens on 127.0.0.1:port (0 = a free port) and serves until
// [Replica.Close].
func StartReplica(name string, port int) (*Replica, error) {
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return nil, fmt.Errorf("replica %s: %w", name, err)
	}
	r := &Replica{Name: name, ln: ln, done: make(chan struct{})}
	mux := http.NewServeMux()
	mux.HandleFunc("/-/healthz", func(w http.ResponseWriter, _ *http.Request) {
		r.healthz.Add(1)
		healthAnswer(w, r.failHz.Load())
	})
	mux.HandleFunc("/health", func(w http.ResponseWriter, _ *http.Request) {
		r.health.Add(1)
		healthAnswer(w, r.failH.Load())
	})
	mux.HandleFunc("/-/raysim/", r.serveControl)
	mux.HandleFunc("/", r.serveApp)
	r.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		defer close(r.done)
		// Serve ends only through Close or Shutdown, with ErrServerClosed.
		_ = r.srv.Serve(ln)
	}()
	return r, nil
}

// ReplicaStats is what GET /-/raysim/stats answers, for tests in another
// process than the emulator.
type ReplicaStats struct {
	Name         string `json:"name"`
	InFlight     int    `json:"in_flight"`
	MaxInFlight  int    `json:"max_in_flight"`
	Requests     int    `json:"requests"`
	HealthzHits  int    `json:"healthz_checks"`
	HealthHits   int    `json:"health_checks"`
	HealthzFails bool   `json:"healthz_fails"`
	HealthFails  bool   `json:"health_fails"`
	DelayMS      int64  `json:"delay_ms"`
}

// Stats returns the replica's counters.
func (r *Replica) Stats() ReplicaStats {
	hz, h := r.HealthChecks()
	return ReplicaStats{Name: r.Name, InFlight: r.InFlight(), MaxInFlight: r.MaxInFlight(), Requests: r.Requests(),
		HealthzHits: hz, HealthHits: h, HealthzFails: r.failHz.Load(), HealthFails: r.failH.Load(),
		DelayMS: time.Duration(r.delay.Load()).Milliseconds()}
}

// serveControl lets a test in another process read the counters and flip
// the switches, talking to the replica directly (not through haproxy):
//
//	GET  /-/raysim/stats
//	POST /-/raysim/healthz-fail?on=1|0
//	POST /-/raysim/health-fail?on=1|0
//	POST /-/raysim/delay?d=250ms
func (r *Replica) serveControl(w http.ResponseWriter, req *http.Request) {
	q := req.URL.Query()
	switch {
	case req.URL.Path == "/-/raysim/stats":
	case req.Method != http.MethodPost:
		http.Error(w, "use POST", http.StatusMethodNotAllowed)
		return
	case req.URL.Path == "/-/raysim/healthz-fail":
		r.SetHealthzFail(q.Get("on") == "1")
	case req.URL.Path == "/-/raysim/health-fail":
		r.SetHealthFail(q.Get("on") == "1")
	case req.URL.Path == "/-/raysim/delay":
		d, err := time.ParseDuration(q.Get("d"))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.SetDelay(d)
	default:
		http.NotFound(w, req)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(r.Stats())
}

func healthAnswer(w http.ResponseWriter, fail bool) {
	if fail {
		http.Error(w, "unhealthy", http.StatusServiceUnavailable)
		return
	}
	_, _ = w.Write([]byte("success"))
}

func (r *Replica) serveApp(w http.ResponseWriter, req *http.Request) {
	n := r.inFlight.Add(1)
	defer r.inFlight.Add(-1)
	r.total.Add(1)
	for {
		m := r.maxSeen.Load()
		if n <= m || r.maxSeen.CompareAndSwap(m, n) {
			break
		}
	}
	if d := time.Duration(r.delay.Load()); d > 0 {
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-req.Context().Done():
			t.Stop()
			return
		}
	}
	w.Header().Set("X-Replica", r.Name)
	fmt.Fprintf(w, "%s %s\n", r.Name, req.URL.Path)
}

// Port is the port the replica listens on.
func (r *Replica) Port() int { return r.ln.Addr().(*net.TCPAddr).Port }

// Addr is 127.0.0.1:port.
func (r *Replica) Addr() string { return r.ln.Addr().String() }

// Target is the server line Ray would render for this replica.
func (r *Replica) Target() raycfg.Target {
	return raycfg.Target{Name: r.Name, Host: "127.0.0.1", Port: r.Port()}
}

// SetHealthzFail makes /-/healthz answer 503 (true) or 200 (false).
func (r *Replica) SetHealthzFail(fail bool) { r.failHz.Store(fail) }

// SetHealthFail makes /health answer 503 (true) or 200 (false).
func (r *Replica) SetHealthFail(fail bool) { r.failH.Store(fail) }

// SetDelay makes every application request wait d before answering.
func (r *Replica) SetDelay(d time.Duration) { r.delay.Store(int64(d)) }

// InFlight is the number of application requests being served now.
func (r *Replica) InFlight() int { return int(r.inFlight.Load()) }

// MaxInFlight is the largest number of application requests seen at once.
func (r *Replica) MaxInFlight() int { return int(r.maxSeen.Load()) }

// Requests is the number of application requests received.
func (r *Replica) Requests() int { return int(r.total.Load()) }

// HealthChecks returns the hits on /-/healthz and on /health.
func (r *Replica) HealthChecks() (healthz, health int) {
	return int(r.healthz.Load()), int(r.health.Load())
}

// Close stops the server at once, dropping open connections, as a killed
// replica actor would.
func (r *Replica) Close() error {
	var err error
	r.stopOnce.Do(func() {
		err = r.srv.Close()
		<-r.done
	})
	return err
}

// Shutdown stops accepting and waits for requests in flight, bounded by ctx.
func (r *Replica) Shutdown(ctx context.Context) error {
	var err error
	r.stopOnce.Do(func() {
		err = r.srv.Shutdown(ctx)
		<-r.done
	})
	return err
}
