// Package metrics serves the launcher's Prometheus metrics (`serve-launch
// run --metrics-addr`): what the shims and hot reloads under the launcher
// did, read from the state directory at each scrape.
//
// Only the launcher links this package, never the shim: the Prometheus
// client's package init costs milliseconds, which would count against
// every haproxy start Ray makes (see cmd/serve-launch-shim).
package metrics

import (
	"context"
	"errors"
	"net"
	"net/http"
	"runtime"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/serve-launch/serve-launch/internal/proc/state"
)

// States are the instance states reported, every one always (0 when none).
var states = []string{state.StateServing, state.StateDegraded, state.StateWedged, state.StateDead, state.StateStarting, state.StateStopped}

// Collector reads the state directory at each scrape. Counters come from
// the instances' event slots; an instance directory removed (a dead
// haproxy pruned, or a tmp cleaner) keeps its counts here, so counters only
// ever grow while the launcher runs.
type Collector struct {
	// State is the state directory.
	State *state.StateDir
	// LauncherPID selects the instances: those started under this launcher.
	LauncherPID int
	// Version is serve-launch's version, for build info.
	Version string

	mu     sync.Mutex
	last   map[string]map[string]uint64 // per instance: the slot's counts last seen
	totals map[string]uint64            // "KIND RESULT" -> count

	starts, hotReloads, quarantined, instances, stale, lastOK, build *prometheus.Desc
}

// NewCollector returns a Collector for the instances of launcherPID in s.
func NewCollector(s *state.StateDir, launcherPID int, version string) *Collector {
	return &Collector{
		State: s, LauncherPID: launcherPID, Version: version,
		last: map[string]map[string]uint64{}, totals: map[string]uint64{},
		starts: prometheus.NewDesc("serve_launch_haproxy_starts_total",
			"haproxy starts and reloads Ray made through the shim, by kind (start, reload) and result (patched: every snippet in force; quarantined: some left out; unpatched: none).",
			[]string{"kind", "result"}, nil),
		hotReloads: prometheus.NewDesc("serve_launch_hot_reloads_total",
			"Hot reloads of a running haproxy after overrides.d changed, by result (patched, unchanged, failed: refused, haproxy kept its config).",
			[]string{"result"}, nil),
		quarantined: prometheus.NewDesc("serve_launch_quarantined_snippets",
			"Snippet files left out of the haproxy that runs, summed over instances.", nil, nil),
		instances: prometheus.NewDesc("serve_launch_instances",
			"haproxy instances started under the launcher, by state (serving, degraded, wedged, dead, starting, stopped).",
			[]string{"state"}, nil),
		stale: prometheus.NewDesc("serve_launch_stale_records",
			"Instances whose record could not be written (a full disk, say); status shows their event slot instead.", nil, nil),
		lastOK: prometheus.NewDesc("serve_launch_last_successful_patch_timestamp_seconds",
			"When a start or hot reload last put every snippet in force (Unix time; 0 before the first).", nil, nil),
		build: prometheus.NewDesc("serve_launch_build_info",
			"serve-launch's version and Go version, as labels; the value is 1.", []string{"version", "goversion"}, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.starts, c.hotReloads, c.quarantined, c.instances, c.stale, c.lastOK, c.build} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	insts, _ := state.Status(c.State)
	counts := map[string]int{}
	var quarantined, stale int
	var lastOK time.Time
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, in := range insts {
		if in.LauncherPID != c.LauncherPID {
			continue
		}
		counts[in.State]++
		if in.Alive {
			quarantined += len(in.Quarantined)
		}
		if in.RecordStale {
			stale++
		}
		ev, err := state.ReadEvents(in.Dir)
		if err != nil {
			continue
		}
		if ev.LastOK.After(lastOK) {
			lastOK = ev.LastOK
		}
		c.add(in.ID, ev.Counts)
	}
	for k, v := range c.totals {
		kind, result, _ := cut(k)
		if kind == state.EventHotReload {
			ch <- prometheus.MustNewConstMetric(c.hotReloads, prometheus.CounterValue, float64(v), result)
		} else {
			ch <- prometheus.MustNewConstMetric(c.starts, prometheus.CounterValue, float64(v), kind, result)
		}
	}
	for _, st := range states {
		ch <- prometheus.MustNewConstMetric(c.instances, prometheus.GaugeValue, float64(counts[st]), st)
	}
	ch <- prometheus.MustNewConstMetric(c.quarantined, prometheus.GaugeValue, float64(quarantined))
	ch <- prometheus.MustNewConstMetric(c.stale, prometheus.GaugeValue, float64(stale))
	ts := 0.0
	if !lastOK.IsZero() {
		ts = float64(lastOK.UnixNano()) / 1e9
	}
	ch <- prometheus.MustNewConstMetric(c.lastOK, prometheus.GaugeValue, ts)
	ch <- prometheus.MustNewConstMetric(c.build, prometheus.GaugeValue, 1, c.Version, runtime.Version())
}

// add folds an instance's slot counts into the totals: what grew since the
// last scrape, or all of a count that went down (its slot was made anew).
func (c *Collector) add(id string, counts map[string]uint64) {
	prev := c.last[id]
	for k, v := range counts {
		p := prev[k]
		if v >= p {
			c.totals[k] += v - p
		} else {
			c.totals[k] += v
		}
	}
	c.last[id] = counts
}

func cut(k string) (kind, result string, ok bool) {
	for i := 0; i < len(k); i++ {
		if k[i] == ' ' {
			return k[:i], k[i+1:], true
		}
	}
	return k, "", false
}

// Listen binds addr for [Serve]: a bad address or a port in use fails the
// launcher before Ray starts, not in the background.
func Listen(addr string) (net.Listener, error) {
	return net.Listen("tcp", addr)
}

// Serve serves /metrics on l until ctx ends.
func Serve(ctx context.Context, l net.Listener, c *Collector) error {
	reg := prometheus.NewRegistry()
	if err := reg.Register(c); err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
