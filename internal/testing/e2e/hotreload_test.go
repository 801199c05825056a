package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/serve-launch/serve-launch/internal/testing/testenv"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const backendsSnippet = `[[edit]]
section = "backend *"
exclude = ["default_backend"]
set = [
  "option httpchk GET /health",
  "http-reuse aggressive",
  "option http-keep-alive",
]
params = [
  { on = "default-server", set = "maxconn %s" },
]
`

// keptConfig is in the one line of the launcher's report on a refused hot
// reload that says so (see reloadOverrides in cmd/serve-launch).
const keptConfig = "keeps its current config"

const rateSnippet = `[[edit]]
section = "global"
set = [
  "maxconnrate {{ %s }}",
  "maxsessrate {{ %s }}",
]
`

// Scenario 3: eleven changes to the overrides directory under load, valid and
// invalid mixed. Valid ones reach the running haproxy (SIGUSR2, same
// master) with no failed request; invalid ones are reported on the
// launcher's stderr, naming the file, and change nothing.
func TestHotReloadUnderLoad(t *testing.T) {
	r := start(t, opts{apps: 2, replicas: 2})
	const servers = 4
	master := r.status(t).HAProxyPID
	l := startLoad(t, []string{r.url("/app1"), r.url("/app2")}, 4, 90*time.Second, 1<<20)

	backends := filepath.Join(r.OverridesDir, "40-backends.toml")
	rates := filepath.Join(r.OverridesDir, "10-rate-limits.toml")
	extra := filepath.Join(r.OverridesDir, "50-extra.toml")
	slim, rate := "32", 512
	steps := []struct {
		name  string
		file  string
		data  string // "" removes the file
		valid bool
		// names is what the error must mention (invalid steps).
		names string
		slim  string
		rate  int
	}{
		{name: "maxconn 16", file: backends, data: fmt.Sprintf(backendsSnippet, "16"), valid: true, slim: "16"},
		{name: "broken TOML", file: backends, data: "[[edit]\nsection = ", names: "40-backends.toml"},
		{name: "maxconn 24", file: backends, data: fmt.Sprintf(backendsSnippet, "24"), valid: true, slim: "24"},
		{name: "rate x256", file: rates, data: fmt.Sprintf(rateSnippet, "mul .Servers 256", "mul .Servers 256"), valid: true, rate: 256},
		{name: "selector matching nothing", file: extra, data: "[[edit]]\nsection = \"backend no-such-app\"\nset = [\"retries 2\"]\n", names: "50-extra.toml"},
		{name: "valid extra snippet", file: extra, data: "[[edit]]\nsection = \"defaults\"\nset = [\"timeout queue 30s\"]\n", valid: true},
		{name: "a line haproxy -c refuses", file: extra, data: "[[edit]]\nsection = \"defaults\"\nset = [\"timeout queue 30s\", \"option no-such-option\"]\n", names: "no-such-option"},
		{name: "extra snippet removed", file: extra, valid: true},
		{name: "template error", file: rates, data: fmt.Sprintf(rateSnippet, "mul .NoSuchFact 512", "mul .Servers 512"), names: "10-rate-limits.toml"},
		{name: "rate x512", file: rates, data: fmt.Sprintf(rateSnippet, "mul .Servers 512", "mul .Servers 512"), valid: true, rate: 512},
		{name: "maxconn 32", file: backends, data: fmt.Sprintf(backendsSnippet, "32"), valid: true, slim: "32"},
	}
	for i, s := range steps {
		from := r.Log.Len()
		began := time.Now()
		if s.data == "" {
			require.NoError(t, os.Remove(s.file))
		} else {
			writeAtomic(t, s.file, s.data)
		}
		// The launcher prints a report one line at a time, so lines of the
		// previous step's report may still arrive after from: a step ends
		// only on a line its own outcome prints. Every refusal has one line
		// saying haproxy keeps its current config (the first line of a load
		// error, or the line after "reload: ..." carrying the detail); the
		// lines after it (more errors, haproxy's alerts) may come late and
		// contain neither marker. Waiting for any "error:", a loaded run saw
		// a valid step stop at the tail of the previous refusal.
		if s.valid {
			_, line := r.Log.WaitFor(t, from, "reloaded haproxy", 20*time.Second, keptConfig)
			require.Contains(t, line, "reloaded haproxy", "step %d (%s) is valid", i+1, s.name)
			if s.slim != "" {
				slim = s.slim
			}
			if s.rate != 0 {
				rate = s.rate
			}
		} else {
			idx, line := r.Log.WaitFor(t, from, keptConfig, 20*time.Second, "reloaded haproxy")
			require.Contains(t, line, keptConfig, "step %d (%s) is invalid", i+1, s.name)
			// The report is that line and the lines after it (a reload
			// failure's line also carries the detail of the "reload:" line
			// before it).
			msg := strings.Join(r.Log.All()[idx:], "\n")
			require.NotContains(t, msg, "reloaded haproxy", "step %d (%s) is invalid", i+1, s.name)
			testenv.Eventually(t, 10*time.Second, "the report names "+s.names, func() (bool, string) {
				msg := strings.Join(r.Log.All()[idx:], "\n")
				return strings.Contains(msg, s.names), msg
			})
		}
		took := time.Since(began)
		// What haproxy runs now: the last valid values, on the same master.
		// The old worker may still answer for a moment after a reload, and
		// slowly on a loaded machine: a failed ask is one more try.
		testenv.Eventually(t, 10*time.Second, fmt.Sprintf("step %d (%s): slim %s and rate x%d", i+1, s.name, slim, rate), func() (bool, string) {
			rows, err := r.tryAppServers()
			if err != nil {
				return false, err.Error()
			}
			bad := slimMismatches(rows, slim)
			info, err := r.tryInfo()
			if err != nil {
				return false, err.Error()
			}
			if want := strconv.Itoa(rate * servers); info["ConnRateLimit"] != want || info["SessRateLimit"] != want {
				bad = append(bad, "ConnRateLimit "+info["ConnRateLimit"]+" SessRateLimit "+info["SessRateLimit"]+" want "+want)
			}
			return len(bad) == 0, strings.Join(bad, "; ")
		})
		t.Logf("step %d %-26s valid=%-5v reported in %s", i+1, s.name, s.valid, took.Round(time.Millisecond))
	}
	ok, fail := l.stop()
	t.Logf("%d requests during the changes, %d failed", ok, fail)
	assert.Zero(t, fail, "failed requests: %v", l.errors())
	assert.Greater(t, ok, int64(100), "the load ran")
	assert.Equal(t, master, r.status(t).HAProxyPID, "Ray's haproxy PID is unchanged")
	assert.True(t, testenv.Alive(master), "the master Ray started still runs")
}
