// Package metrics serves the launcher's Prometheus metrics (`serve-launch
// run --metrics-addr`): what the shims and hot reloads under the launcher
// did, read from the state directory at each scrape.
//
// The text exposition format (0.0.4) is written here by hand, not with
// github.com/prometheus/client_golang: that client's package init (its
// default registry, protobuf, procfs) cost every serve-launch process
// milliseconds at start, render and status included, for the one command
// that serves metrics. Only the launcher links this package, never the
// shim (see cmd/serve-launch-shim).
package metrics

import (
	"context"
	"errors"
	"net"
	"net/http"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

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
}

// NewCollector returns a Collector for the instances of launcherPID in s.
func NewCollector(s *state.StateDir, launcherPID int, version string) *Collector {
	return &Collector{
		State: s, LauncherPID: launcherPID, Version: version,
		last: map[string]map[string]uint64{}, totals: map[string]uint64{},
	}
}

// family is one metric family of a scrape. Its labels are named in the
// order they are written, which is by name, as client_golang wrote them.
type family struct {
	name, help, typ string
	labels          []string
	samples         []sample
}

// sample is one value of a family, with a value for each of its labels.
type sample struct {
	values []string
	value  float64
}

func (f *family) add(v float64, values ...string) {
	f.samples = append(f.samples, sample{values: values, value: v})
}

// gather reads the state directory and returns every family, each present
// even without samples, in name order: a scrape reads line for line as it
// did with client_golang.
func (c *Collector) gather() []*family {
	starts := &family{name: "serve_launch_haproxy_starts_total", typ: "counter", labels: []string{"kind", "result"},
		help: "haproxy starts and reloads Ray made through the shim, by kind (start, reload) and result (patched: every snippet in force; quarantined: some left out; unpatched: none)."}
	hotReloads := &family{name: "serve_launch_hot_reloads_total", typ: "counter", labels: []string{"result"},
		help: "Hot reloads of a running haproxy after overrides.d changed, by result (patched, unchanged, failed: refused, haproxy kept its config)."}
	quarantined := &family{name: "serve_launch_quarantined_snippets", typ: "gauge",
		help: "Snippet files left out of the haproxy that runs, summed over instances."}
	instances := &family{name: "serve_launch_instances", typ: "gauge", labels: []string{"state"},
		help: "haproxy instances started under the launcher, by state (serving, degraded, wedged, dead, starting, stopped)."}
	stale := &family{name: "serve_launch_stale_records", typ: "gauge",
		help: "Instances whose record could not be written (a full disk, say); status shows their event slot instead."}
	lastOK := &family{name: "serve_launch_last_successful_patch_timestamp_seconds", typ: "gauge",
		help: "When a start or hot reload last put every snippet in force (Unix time; 0 before the first)."}
	build := &family{name: "serve_launch_build_info", typ: "gauge", labels: []string{"goversion", "version"},
		help: "serve-launch's version and Go version, as labels; the value is 1."}

	// Status returns every instance it could read with the errors of the
	// others: a record that cannot be read leaves its instance out of this
	// scrape (status names it) rather than failing the whole scrape.
	insts, _ := state.Status(c.State)
	counts := map[string]int{}
	var nQuarantined, nStale int
	var last time.Time
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, in := range insts {
		if in.LauncherPID != c.LauncherPID {
			continue
		}
		counts[in.State]++
		if in.Alive {
			nQuarantined += len(in.Quarantined)
		}
		if in.RecordStale {
			nStale++
		}
		ev, err := state.ReadEvents(in.Dir)
		if err != nil {
			continue
		}
		if ev.LastOK.After(last) {
			last = ev.LastOK
		}
		c.add(in.ID, ev.Counts)
	}
	for k, v := range c.totals {
		kind, result, _ := strings.Cut(k, " ")
		if kind == state.EventHotReload {
			hotReloads.add(float64(v), result)
		} else {
			starts.add(float64(v), kind, result)
		}
	}
	for _, st := range states {
		instances.add(float64(counts[st]), st)
	}
	quarantined.add(float64(nQuarantined))
	stale.add(float64(nStale))
	ts := 0.0
	if !last.IsZero() {
		ts = float64(last.UnixNano()) / 1e9
	}
	lastOK.add(ts)
	build.add(1, runtime.Version(), c.Version)
	return []*family{build, starts, hotReloads, instances, lastOK, quarantined, stale}
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

var (
	helpEscaper  = strings.NewReplacer(`\`, `\\`, "\n", `\n`)
	labelEscaper = strings.NewReplacer(`\`, `\\`, "\n", `\n`, `"`, `\"`)
)

// appendText appends fams in the text exposition format 0.0.4, each
// family's samples sorted by their label values so that a scrape reads the
// same whatever order the state directory and Go's maps gave.
func appendText(b []byte, fams []*family) []byte {
	for _, f := range fams {
		slices.SortFunc(f.samples, func(x, y sample) int { return slices.Compare(x.values, y.values) })
		b = append(b, "# HELP "...)
		b = append(b, f.name...)
		b = append(b, ' ')
		b = append(b, helpEscaper.Replace(f.help)...)
		b = append(b, "\n# TYPE "...)
		b = append(b, f.name...)
		b = append(b, ' ')
		b = append(b, f.typ...)
		b = append(b, '\n')
		for _, s := range f.samples {
			b = append(b, f.name...)
			for i, l := range f.labels {
				if i == 0 {
					b = append(b, '{')
				} else {
					b = append(b, ',')
				}
				b = append(b, l...)
				b = append(b, `="`...)
				b = append(b, labelEscaper.Replace(s.values[i])...)
				b = append(b, '"')
			}
			if len(f.labels) > 0 {
				b = append(b, '}')
			}
			b = append(b, ' ')
			b = strconv.AppendFloat(b, s.value, 'g', -1, 64)
			b = append(b, '\n')
		}
	}
	return b
}

// contentType is the text exposition format's.
const contentType = "text/plain; version=0.0.4; charset=utf-8"

// scrape answers a scrape.
func (c *Collector) scrape(w http.ResponseWriter, _ *http.Request) {
	b := appendText(nil, c.gather())
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	_, _ = w.Write(b)
}

// Listen binds addr for [Serve]: a bad address or a port in use fails the
// launcher before Ray starts, not in the background.
func Listen(addr string) (net.Listener, error) {
	return net.Listen("tcp", addr)
}

// handler serves c at GET (and so HEAD) /metrics: the mux answers other
// methods with 405 and other paths with 404.
func handler(c *Collector) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /metrics", c.scrape)
	return mux
}

// Serve serves /metrics on l until ctx ends.
func Serve(ctx context.Context, l net.Listener, c *Collector) error {
	srv := &http.Server{Handler: handler(c), ReadHeaderTimeout: 5 * time.Second}
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
