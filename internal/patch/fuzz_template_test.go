package patch

import (
	"runtime"
	"strings"
	"testing"
	"time"
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
	cfg, err := Parse("ray-2.55.cfg", mustRead(f, "testdata/ray-2.55.cfg"))
	if err != nil {
		f.Fatal(err)
	}
	sections := []*Section{nil, cfg.Sections[0], cfg.Sections[len(cfg.Sections)-2]}
	env := func(name string) (string, bool) {
		if name == "SL_FUZZ" {
			return strings.Repeat("7", 4096), true
		}
		return "", false
	}
	f.Fuzz(func(t *testing.T, text string) {
		var errs ErrorList
		tl := (&Snippet{Name: "fuzz.toml"}).loadLine(Position{File: "fuzz.toml", Line: 1}, text, &errs)
		if tl.tmpl == nil {
			return
		}
		if tl.nodes > maxTemplateNodes {
			t.Fatalf("a template of %d parts loaded", tl.nodes)
		}
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		start := time.Now()
		a := &applier{f: cfg, opt: ApplyOptions{Getenv: env}}
		for _, s := range sections {
			out, ok := a.execute(tl, s)
			if ok && len(out) > MaxLineSize {
				t.Fatalf("%d bytes of output from %q", len(out), text)
			}
		}
		took := time.Since(start)
		runtime.ReadMemStats(&after)
		if a.budget.steps > maxPatchSteps+maxTemplateNodes || a.budget.bytes > maxPatchBytes+maxEvalBytes {
			t.Fatalf("the budget did not hold: %d steps, %d bytes, from %q", a.budget.steps, a.budget.bytes, text)
		}
		if took > time.Second {
			t.Fatalf("evaluating %q took %s", text, took)
		}
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 64<<20 {
			t.Fatalf("evaluating %q allocated %d bytes", text, alloc)
		}
	})
}
