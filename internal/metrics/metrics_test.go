package metrics

import (
	"context"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/serve-launch/serve-launch/internal/proc/state"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAppendText(t *testing.T) {
	for _, tc := range []struct {
		name string
		fams []*family
		want string
	}{
		{"no labels", []*family{{name: "a", help: "h.", typ: "gauge", samples: []sample{{value: 0}}}},
			"# HELP a h.\n# TYPE a gauge\na 0\n"},
		{"no samples: help and type only", []*family{{name: "a_total", help: "h.", typ: "counter", labels: []string{"x"}}},
			"# HELP a_total h.\n# TYPE a_total counter\n"},
		{"help escaped", []*family{{name: "a", help: "back\\slash \"quoted\"\nnext", typ: "gauge"}},
			"# HELP a back\\\\slash \"quoted\"\\nnext\n# TYPE a gauge\n"},
		{"label values escaped", []*family{{name: "a", help: "h.", typ: "gauge", labels: []string{"v"},
			samples: []sample{{values: []string{"a\\b\"c\nd"}, value: 1}}}},
			"# HELP a h.\n# TYPE a gauge\na{v=\"a\\\\b\\\"c\\nd\"} 1\n"},
		{"samples sorted by label values, first label first", []*family{{name: "a_total", help: "h.", typ: "counter", labels: []string{"kind", "result"},
			samples: []sample{{[]string{"start", "unpatched"}, 1}, {[]string{"start", "patched"}, 2}, {[]string{"reload", "unpatched"}, 3}, {[]string{"", "z"}, 4}}}},
			"# HELP a_total h.\n# TYPE a_total counter\n" +
				"a_total{kind=\"\",result=\"z\"} 4\na_total{kind=\"reload\",result=\"unpatched\"} 3\n" +
				"a_total{kind=\"start\",result=\"patched\"} 2\na_total{kind=\"start\",result=\"unpatched\"} 1\n"},
		{"families in the order given", []*family{{name: "b", help: "h.", typ: "gauge"}, {name: "a", help: "h.", typ: "gauge"}},
			"# HELP b h.\n# TYPE b gauge\n# HELP a h.\n# TYPE a gauge\n"},
		{"floats", []*family{{name: "a", help: "h.", typ: "gauge", labels: []string{"v"}, samples: []sample{
			{[]string{"1"}, 1e6}, {[]string{"2"}, 1733580000.1234567}, {[]string{"3"}, 0.5}, {[]string{"4"}, math.Inf(1)}, {[]string{"5"}, math.NaN()}}}},
			"# HELP a h.\n# TYPE a gauge\n" +
				"a{v=\"1\"} 1e+06\na{v=\"2\"} 1.7335800001234567e+09\na{v=\"3\"} 0.5\na{v=\"4\"} +Inf\na{v=\"5\"} NaN\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, string(appendText(nil, tc.fams)))
		})
	}
}

// TestNoInstances: every family is written, in name order, the gauges at 0
// and every state present; the counters have no sample until something is
// counted.
func TestNoInstances(t *testing.T) {
	c := NewCollector(openState(t), os.Getpid(), "v1.2.3")
	want := `# HELP serve_launch_build_info serve-launch's version and Go version, as labels; the value is 1.
# TYPE serve_launch_build_info gauge
serve_launch_build_info{goversion="` + runtime.Version() + `",version="v1.2.3"} 1
# HELP serve_launch_haproxy_starts_total haproxy starts and reloads Ray made through the shim, by kind (start, reload) and result (patched: every snippet in force; quarantined: some left out; unpatched: none).
# TYPE serve_launch_haproxy_starts_total counter
# HELP serve_launch_hot_reloads_total Hot reloads of a running haproxy after overrides.d changed, by result (patched, unchanged, failed: refused, haproxy kept its config).
# TYPE serve_launch_hot_reloads_total counter
# HELP serve_launch_instances haproxy instances started under the launcher, by state (serving, degraded, wedged, dead, starting, stopped).
# TYPE serve_launch_instances gauge
serve_launch_instances{state="dead"} 0
serve_launch_instances{state="degraded"} 0
serve_launch_instances{state="serving"} 0
serve_launch_instances{state="starting"} 0
serve_launch_instances{state="stopped"} 0
serve_launch_instances{state="wedged"} 0
# HELP serve_launch_last_successful_patch_timestamp_seconds When a start or hot reload last put every snippet in force (Unix time; 0 before the first).
# TYPE serve_launch_last_successful_patch_timestamp_seconds gauge
serve_launch_last_successful_patch_timestamp_seconds 0
# HELP serve_launch_quarantined_snippets Snippet files left out of the haproxy that runs, summed over instances.
# TYPE serve_launch_quarantined_snippets gauge
serve_launch_quarantined_snippets 0
# HELP serve_launch_stale_records Instances whose record could not be written (a full disk, say); status shows their event slot instead.
# TYPE serve_launch_stale_records gauge
serve_launch_stale_records 0
`
	assert.Equal(t, want, string(appendText(nil, c.gather())))
}

// TestCounters scrapes after each step: counters fold what the slots
// counted since the last scrape, keep counting across a slot made anew and
// an instance directory removed, and leave out other launchers' instances.
func TestCounters(t *testing.T) {
	sd := openState(t)
	me := os.Getpid()
	c := NewCollector(sd, me, "dev")
	for _, step := range []struct {
		name string
		do   func(t *testing.T)
		want map[string]string
	}{
		{"first counts", func(t *testing.T) {
			instance(t, sd, "a", me, map[string]uint64{"start patched": 3, "hot-reload failed": 1}, false)
		}, map[string]string{
			`serve_launch_haproxy_starts_total{kind="start",result="patched"}`: "3",
			`serve_launch_hot_reloads_total{result="failed"}`:                  "1",
		}},
		{"growth since the last scrape", func(t *testing.T) {
			instance(t, sd, "a", me, map[string]uint64{"start patched": 5, "hot-reload failed": 1, "reload quarantined": 2}, false)
		}, map[string]string{
			`serve_launch_haproxy_starts_total{kind="start",result="patched"}`:      "5",
			`serve_launch_haproxy_starts_total{kind="reload",result="quarantined"}`: "2",
			`serve_launch_hot_reloads_total{result="failed"}`:                       "1",
		}},
		{"a slot made anew counts from zero", func(t *testing.T) {
			require.NoError(t, os.Remove(filepath.Join(sd.Path(), "a", state.EventsFile)))
			instance(t, sd, "a", me, map[string]uint64{"start patched": 1}, false)
		}, map[string]string{
			`serve_launch_haproxy_starts_total{kind="start",result="patched"}`:      "6",
			`serve_launch_haproxy_starts_total{kind="reload",result="quarantined"}`: "2",
			`serve_launch_hot_reloads_total{result="failed"}`:                       "1",
		}},
		{"a removed instance keeps its counts; another launcher's are not ours", func(t *testing.T) {
			require.NoError(t, os.RemoveAll(filepath.Join(sd.Path(), "a")))
			instance(t, sd, "b", me+1, map[string]uint64{"start patched": 50, "hot-reload patched": 7}, false)
			instance(t, sd, "c", me, map[string]uint64{"hot-reload patched": 1000000}, false)
		}, map[string]string{
			`serve_launch_haproxy_starts_total{kind="start",result="patched"}`:      "6",
			`serve_launch_haproxy_starts_total{kind="reload",result="quarantined"}`: "2",
			`serve_launch_hot_reloads_total{result="failed"}`:                       "1",
			`serve_launch_hot_reloads_total{result="patched"}`:                      "1e+06",
		}},
	} {
		t.Run(step.name, func(t *testing.T) {
			step.do(t)
			got := map[string]string{}
			for _, f := range c.gather() {
				if strings.HasSuffix(f.name, "_total") {
					for k, v := range samples(f) {
						got[k] = v
					}
				}
			}
			assert.Equal(t, step.want, got)
		})
	}
}

// TestGauges: instances by state, stale records and the last success are
// this launcher's instances' as they are now.
func TestGauges(t *testing.T) {
	sd := openState(t)
	me := os.Getpid()
	instance(t, sd, "a", me, nil, false)
	instance(t, sd, "b", me, nil, true)
	instance(t, sd, "c", me+1, nil, true)
	setLastOK(t, sd, "a", time.Unix(1733580000, 500_000_000))
	setLastOK(t, sd, "b", time.Unix(1733570000, 0))
	setLastOK(t, sd, "c", time.Unix(1833580000, 0))
	got := map[string]string{}
	for _, f := range NewCollector(sd, me, "dev").gather() {
		for k, v := range samples(f) {
			got[k] = v
		}
	}
	// With no haproxy running (master PID 0), the instances are dead.
	for k, v := range map[string]string{
		`serve_launch_instances{state="dead"}`:                 "2",
		`serve_launch_instances{state="serving"}`:              "0",
		"serve_launch_stale_records":                           "1",
		"serve_launch_quarantined_snippets":                    "0",
		"serve_launch_last_successful_patch_timestamp_seconds": "1.7335800005e+09",
	} {
		assert.Equal(t, v, got[k], k)
	}
}

// TestScrape serves a scrape and reads it with Prometheus's own parser.
func TestScrape(t *testing.T) {
	sd := openState(t)
	me := os.Getpid()
	instance(t, sd, "a", me, map[string]uint64{"start patched": 3, "reload unpatched": 1, "hot-reload unchanged": 2}, true)
	setLastOK(t, sd, "a", time.Unix(1733580000, 500_000_000))
	l, err := Listen("127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, l, NewCollector(sd, me, `v1 "quoted" \ path`)) }()
	t.Cleanup(func() {
		cancel()
		assert.NoError(t, <-done)
	})
	url := "http://" + l.Addr().String()

	resp, err := http.Get(url + "/metrics")
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "text/plain; version=0.0.4; charset=utf-8", resp.Header.Get("Content-Type"))

	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(string(body)))
	require.NoError(t, err, "%s", body)
	type want struct {
		typ     dto.MetricType
		samples map[string]float64 // label pairs as written by labelsOf -> value
	}
	for name, w := range map[string]want{
		"serve_launch_build_info": {dto.MetricType_GAUGE, map[string]float64{
			`goversion=` + runtime.Version() + `,version=v1 "quoted" \ path`: 1}},
		"serve_launch_haproxy_starts_total": {dto.MetricType_COUNTER, map[string]float64{
			"kind=start,result=patched": 3, "kind=reload,result=unpatched": 1}},
		"serve_launch_hot_reloads_total": {dto.MetricType_COUNTER, map[string]float64{"result=unchanged": 2}},
		"serve_launch_instances": {dto.MetricType_GAUGE, map[string]float64{
			"state=serving": 0, "state=degraded": 0, "state=wedged": 0, "state=dead": 1, "state=starting": 0, "state=stopped": 0}},
		"serve_launch_quarantined_snippets":                    {dto.MetricType_GAUGE, map[string]float64{"": 0}},
		"serve_launch_stale_records":                           {dto.MetricType_GAUGE, map[string]float64{"": 1}},
		"serve_launch_last_successful_patch_timestamp_seconds": {dto.MetricType_GAUGE, map[string]float64{"": 1733580000.5}},
	} {
		t.Run(name, func(t *testing.T) {
			f := fams[name]
			require.NotNil(t, f, "no family %s in\n%s", name, body)
			assert.Equal(t, w.typ, f.GetType())
			assert.NotEmpty(t, f.GetHelp())
			got := map[string]float64{}
			for _, m := range f.GetMetric() {
				var pairs []string
				for _, lp := range m.GetLabel() {
					pairs = append(pairs, lp.GetName()+"="+lp.GetValue())
				}
				v := m.GetGauge().GetValue()
				if w.typ == dto.MetricType_COUNTER {
					v = m.GetCounter().GetValue()
				}
				got[strings.Join(pairs, ",")] = v
			}
			assert.Equal(t, w.samples, got)
		})
	}
	assert.Len(t, fams, 7)

	for _, tc := range []struct {
		method, path string
		code         int
	}{
		{http.MethodHead, "/metrics", http.StatusOK},
		{http.MethodPost, "/metrics", http.StatusMethodNotAllowed},
		{http.MethodGet, "/", http.StatusNotFound},
		{http.MethodGet, "/metrics/", http.StatusNotFound},
		{http.MethodGet, "/other", http.StatusNotFound},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			req, err := http.NewRequest(tc.method, url+tc.path, nil)
			require.NoError(t, err)
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			resp.Body.Close()
			assert.Equal(t, tc.code, resp.StatusCode)
		})
	}
}

func openState(t *testing.T) *state.StateDir {
	t.Helper()
	sd, err := state.OpenStateDir(filepath.Join(t.TempDir(), "state"))
	require.NoError(t, err)
	return sd
}

// instance records instance id of launcher with its slot's counts. Its
// master PID is 0, so it reads as dead; stale writes the record behind the
// slot, as when the record could not be written.
func instance(t *testing.T, sd *state.StateDir, id string, launcher int, counts map[string]uint64, stale bool) {
	t.Helper()
	dir, err := sd.InstanceDir(id)
	require.NoError(t, err)
	ev, err := state.UpdateEvents(dir, func(e *state.Events) {
		e.Counts = counts
		e.Start = state.Event{Kind: state.EventStart, Result: state.ResultPatched, PID: 1 << 22}
	})
	require.NoError(t, err)
	seq := ev.Seq
	if stale {
		seq--
	}
	require.NoError(t, sd.SaveInstance(dir, &state.Instance{ID: id, Dir: dir, LauncherPID: launcher, Seq: seq}))
}

// setLastOK sets the last success in instance id's slot; the record moves
// on with the slot, so a stale one stays stale and a fresh one fresh.
func setLastOK(t *testing.T, sd *state.StateDir, id string, at time.Time) {
	t.Helper()
	dir := filepath.Join(sd.Path(), id)
	in, err := sd.LoadInstance(dir)
	require.NoError(t, err)
	_, err = state.UpdateEvents(dir, func(e *state.Events) { e.LastOK = at })
	require.NoError(t, err)
	in.Seq++
	require.NoError(t, sd.SaveInstance(dir, in))
}

// samples is f's samples as written: name{labels} -> value.
func samples(f *family) map[string]string {
	out := map[string]string{}
	for _, line := range strings.Split(string(appendText(nil, []*family{f})), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		out[line[:i]] = line[i+1:]
	}
	return out
}
