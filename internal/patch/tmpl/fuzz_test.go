package tmpl

import (
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/serve-launch/serve-launch/internal/patch/config"
)

// FuzzTemplate evaluates arbitrary snippet-line templates in a few sections
// of ray-2.55.cfg. Whatever loads must run within bounds: its output no
// longer than a line, its steps and text within the patch's budget, and,
// as generous safety nets for the budgets themselves, well under a second
// and 64 MiB of allocation.
func FuzzTemplate(f *testing.F) {
	for _, seed := range []string{
		"maxconnrate {{ mul .Servers 512 }}",
		"maxconn {{ min 2000 (mul .Servers 1000) }}",
		`errorfile 503 {{ env "SERVE_ERRORS_DIR" "/etc/serve/errors" }}/503.http`,
		`maxconn {{ if gt .Section.Servers 2 }}{{ .Section.Name }}{{ else }}{{ printf "%d" .Backends }}{{ end }}`,
		`maxconnrate {{ $a := "x" }}` + strings.Repeat(`{{ $a = printf "%s%s" $a $a }}`, 30) + `{{ $a }}`,
		`maxconn {{ printf "%0999999d" 1 }}`,
		`maxconn {{ printf "%[1]*[2]d%[1]*[2]d" 999999 1 }}`,
		`{{ $a := printf "%016000d" 1 }}{{ print $a $a $a $a }}{{ println $a }}`,
		`maxconn {{ mul 9223372036854775807 2 }}{{ add -9223372036854775807 -9 }}`,
		`{{ define "a" }}{{ template "a" }}{{ end }}{{ template "a" }}`,
		`{{ printf "%.999999f %v" 1e300 (mul 3 "4") }}`,
		`{{ with $x := env "SL_FUZZ" }}{{ $x }}{{ end }}{{ eq .Servers 5 }}{{ and 1 0 }}{{ or "" "x" }}{{ not true }}`,
	} {
		f.Add(seed)
	}
	data, err := os.ReadFile("../testdata/ray-2.55.cfg")
	if err != nil {
		f.Fatal(err)
	}
	cfg, err := config.Parse("ray-2.55.cfg", data)
	if err != nil {
		f.Fatal(err)
	}
	// The contexts the engine gives a line in no section (a [[section]]),
	// in global and in an application backend.
	contexts := make([]Context, 0, 3)
	for _, s := range []*config.Section{nil, cfg.Sections[0], cfg.Sections[len(cfg.Sections)-2]} {
		c := Context{Servers: config.ServerCount(cfg.Sections)}
		for _, x := range cfg.Sections {
			if x.Kind == "backend" && x.Name != "default_backend" {
				c.Backends++
			}
		}
		if s != nil {
			c.Section = SectionContext{Kind: s.Kind, Name: s.Name, Servers: config.ServerCount([]*config.Section{s})}
		}
		contexts = append(contexts, c)
	}
	env := func(name string) (string, bool) {
		if name == "SL_FUZZ" {
			return strings.Repeat("7", 4096), true
		}
		return "", false
	}
	f.Fuzz(func(t *testing.T, text string) {
		// What the snippet loader parses: a line of a line's length.
		if !strings.Contains(text, "{{") || len(text) > MaxLineSize {
			return
		}
		tl, err := Parse("fuzz.toml:1", text)
		if err != nil {
			return
		}
		if tl.Nodes() > maxNodes {
			t.Fatalf("a template of %d parts loaded", tl.Nodes())
		}
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		start := time.Now()
		var budget Budget
		for _, c := range contexts {
			out, err := tl.Execute(c, env, &budget)
			if err == nil && len(out) > MaxLineSize {
				t.Fatalf("%d bytes of output from %q", len(out), text)
			}
		}
		took := time.Since(start)
		runtime.ReadMemStats(&after)
		if budget.steps > maxPatchSteps+maxNodes || budget.bytes > maxPatchBytes+maxEvalBytes {
			t.Fatalf("the budget did not hold: %d steps, %d bytes, from %q", budget.steps, budget.bytes, text)
		}
		if took > time.Second {
			t.Fatalf("evaluating %q took %s", text, took)
		}
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 64<<20 {
			t.Fatalf("evaluating %q allocated %d bytes", text, alloc)
		}
	})
}
