package patch

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/serve-launch/serve-launch/internal/patch/snippet"
	"github.com/serve-launch/serve-launch/internal/patch/tmpl"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// globalSet is a snippet that sets line in global.
func globalSet(line string) []byte {
	return []byte("[[edit]]\nsection = \"global\"\nset = ['" + line + "']\n")
}

// TestTemplateBounds: a template can neither repeat work nor build text
// without bound; each way it might is refused at load or stopped while it
// runs, with the snippet file:line.
func TestTemplateBounds(t *testing.T) {
	cfg := mustRead(t, "testdata/ray-2.55.cfg")
	doubling := `maxconnrate {{ $a := "x" }}` + strings.Repeat(`{{ $a = printf "%s%s" $a $a }}`, 30) + `{{ $a }}`
	tests := []struct {
		name string
		line string
		want string // "" for a line that renders
	}{
		{name: "documented functions", line: `maxconnrate {{ min 2000 (mul .Servers 512) }}`},
		{name: "comparisons and logic", line: `maxconn {{ if and (gt .Servers 2) (not (eq .Section.Name "x")) }}100{{ else }}10{{ end }}`},
		{name: "bounded printf", line: `maxconn {{ printf "%d" (add .Servers 1) }}`},
		{name: "printf of a value near the limit", line: `log-tag {{ printf "%s" (printf "%016000d" 1) }}`},
		{name: "doubling a variable", line: doubling, want: "x.toml:3: template \"maxconnrate {{ $a := \\\"x\\\" }}{{ $a = printf"},
		{name: "doubling stops at the line limit", line: doubling, want: "...\" in global: the line is longer than 16384 bytes"},
		{name: "printf width", line: `maxconn {{ printf "%0999999d" 1 }}`, want: "x.toml:3: template \"maxconn {{ printf \\\"%0999999d\\\" 1 }}\" in global: the line is longer than 16384 bytes"},
		{name: "printf width from an argument", line: `maxconn {{ printf "%0*d" 999999 1 }}`, want: "in global: the line is longer than 16384 bytes"},
		{name: "printf of one argument many times", line: `log-tag {{ printf "%[1]s%[1]s%[1]s" (printf "%08000d" 1) }}`, want: "in global: the line is longer than 16384 bytes"},
		{name: "print of many arguments", line: `log-tag {{ $a := printf "%08000d" 1 }}{{ print $a $a $a }}`, want: "in global: the line is longer than 16384 bytes"},
		{name: "float precision", line: `log-tag {{ printf "%.999999f" 1.5 }}`, want: "in global: the line is longer than 16384 bytes"},
		{name: "one evaluation's budget", line: `log-tag {{ $a := printf "%015000d" 1 }}{{ $a = printf "%015000d" 2 }}{{ $a = printf "%015000d" 3 }}{{ $a = printf "%015000d" 4 }}{{ $a = printf "%015000d" 5 }}x`,
			want: "in global: at <printf \"%015000d\" 5>: the template builds more than 65536 bytes of text; a line holds at most 16384"},
		{name: "recursion through define", line: `maxconn {{ define "a" }}{{ template "a" }}{{ template "a" }}{{ end }}{{ template "a" }}`,
			want: "x.toml:3: template: define and block are not supported: a line is one directive"},
		{name: "block", line: `maxconn {{ block "a" . }}1{{ end }}`, want: "x.toml:3: template: define and block are not supported"},
		{name: "template call", line: `maxconn {{ template "a" }}`, want: "x.toml:3: template: template and block are not supported"},
		{name: "range", line: `maxconn {{ range 1000000000 }}1{{ end }}`, want: "x.toml:3: template: range is not supported: a line is one directive"},
		{name: "len", line: `maxconn {{ len "abc" }}`, want: "x.toml:3: template: function \"len\" is not available in snippets (known: env, mul, add, max, min, printf, print, println, and, or, not, eq, ne, lt, le, gt, ge)"},
		{name: "call", line: `maxconn {{ call .Servers }}`, want: "x.toml:3: template: function \"call\" is not available in snippets"},
		{name: "slice", line: `maxconn {{ slice "abc" 1 }}`, want: "function \"slice\" is not available"},
		{name: "index", line: `maxconn {{ index "abc" 1 }}`, want: "function \"index\" is not available"},
		{name: "html", line: `maxconn {{ html "<<<<" }}`, want: "function \"html\" is not available"},
		{name: "js", line: `maxconn {{ js "<<<<" }}`, want: "function \"js\" is not available"},
		{name: "urlquery", line: `maxconn {{ urlquery "<<<<" }}`, want: "function \"urlquery\" is not available"},
		{name: "nested in a pipeline", line: `maxconn {{ mul (len "ab") 2 }}`, want: "function \"len\" is not available"},
		{name: "too many parts", line: "maxconn " + strings.Repeat("{{1}}", 100), want: "x.toml:3: template: the template has more than 256 parts; a line is one directive"},
		{name: "template longer than a line", line: "maxconn {{1}}" + strings.Repeat("x", tmpl.MaxLineSize), want: "x.toml:3: template of 16397 bytes is longer than the limit of 16384"},
		{name: "mul overflow", line: `maxconnrate {{ mul 9223372036854775807 2 }}`,
			want: "x.toml:3: template \"maxconnrate {{ mul 9223372036854775807 2 }}\" in global: at <mul 9223372036854775807 2>: mul of 9223372036854775807 and 2 overflows a 64-bit integer"},
		{name: "add overflow", line: `maxsessrate {{ add 9223372036854775807 1 }}`,
			want: "x.toml:3: template \"maxsessrate {{ add 9223372036854775807 1 }}\" in global: at <add 9223372036854775807 1>: add of 9223372036854775807 and 1 overflows a 64-bit integer"},
		{name: "add overflow below", line: `maxconn {{ add -9223372036854775807 -2 }}`, want: "add of -9223372036854775807 and -2 overflows"},
		{name: "mul overflow of the smallest integer", line: `maxconn {{ mul -1 (add -9223372036854775807 -1) }}`, want: "mul of -1 and -9223372036854775808 overflows"},
		{name: "mul overflow through a string", line: `maxconn {{ mul "4294967296" "4294967296" }}`, want: "mul of 4294967296 and 4294967296 overflows"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := badSnippetErr("x.toml", globalSet(tt.line), cfg)
			if tt.want == "" {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			assert.Less(t, len(err.Error()), 1024, "the message does not repeat a long template")
		})
	}
}

// TestTemplateEnvTooLong: an environment value longer than a line is
// refused rather than built into one.
func TestTemplateEnvTooLong(t *testing.T) {
	sn, err := snippet.Load("x.toml", globalSet(`log-tag {{ env "BIG" }}`))
	require.NoError(t, err)
	big := strings.Repeat("x", tmpl.MaxLineSize+1)
	_, err = (&Overrides{Snippets: []*snippet.Snippet{sn}}).Patch("ray-2.55.cfg", mustRead(t, "testdata/ray-2.55.cfg"), ApplyOptions{
		Getenv: func(string) (string, bool) { return big, true },
	})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "x.toml:3: template \"log-tag {{ env \\\"BIG\\\" }}\" in global: at <env \"BIG\">: environment variable BIG is 16385 bytes long, longer than a line may be (16384)")
}

// TestPatchBudget: templated lines edited into many sections stop at the
// patch's budget, each message naming a snippet line, instead of running
// for as long as they like.
func TestPatchBudget(t *testing.T) {
	var snippet strings.Builder
	snippet.WriteString("[[edit]]\nsection = \"backend *\"\nadd = [\n")
	for i := range 40 {
		fmt.Fprintf(&snippet, "  'http-request set-header X-%d %s',\n", i, strings.Repeat("{{1}}", 60))
	}
	snippet.WriteString("]\n")
	var cfg strings.Builder
	cfg.WriteString("global\n    maxconn 100\n")
	for i := range 2000 {
		fmt.Fprintf(&cfg, "backend app-%d\n    server s%d 127.0.0.1:%d\n", i, i, 30000+i%1000)
	}
	// A generous safety net: the refusal is meant to come within a second.
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- badSnippetErr("x.toml", []byte(snippet.String()), []byte(cfg.String())) }()
	select {
	case err := <-done:
		require.Error(t, err)
		assert.Contains(t, err.Error(), "the templates of this patch visit more than 2097152 steps (too many templated lines times the sections they edit)")
		first, _, _ := strings.Cut(err.Error(), "\n")
		assert.Regexp(t, `^x\.toml:\d+: template `, first)
		assert.Equal(t, 1, strings.Count(err.Error(), "budget")+strings.Count(err.Error(), "more than 2097152"), "said once: %.500s", err)
	case <-ctx.Done():
		t.Fatal("the patch did not stop at its budget")
	}
}

// TestPatchWritten: a snippet within its size, edited into every backend of
// a large config, stops where the lines it writes pass the limit of a
// config instead of multiplying into gigabytes.
func TestPatchWritten(t *testing.T) {
	var snippet strings.Builder
	snippet.WriteString("[[edit]]\nsection = \"backend *\"\nadd = [\n")
	for i := range 60 {
		fmt.Fprintf(&snippet, "  'http-request set-header X-%d %s',\n", i, strings.Repeat("x", 16000))
	}
	snippet.WriteString("]\n")
	var cfg strings.Builder
	for i := range 200 {
		fmt.Fprintf(&cfg, "backend app-%d\n    server s%d 127.0.0.1:%d\n", i, i, 30000+i)
	}
	err := badSnippetErr("x.toml", []byte(snippet.String()), []byte(cfg.String()))
	require.Error(t, err)
	assert.Equal(t, "x.toml:1: edit of \"backend *\" makes the lines snippets write add up to more than 67108864 bytes (its lines times the sections it matches)", err.Error())
}

// TestTemplateEnvWithoutGetenv: Apply reads no environment of its own. With
// no Getenv every env without a default is an error at its file:line, even
// for a variable this process has; a default still applies.
func TestTemplateEnvWithoutGetenv(t *testing.T) {
	t.Setenv("SL_SET_IN_PROCESS", "7")
	cfg := mustRead(t, "testdata/ray-2.55.cfg")
	sn, err := snippet.Load("x.toml", globalSet(`maxconnrate {{ env "SL_SET_IN_PROCESS" }}`))
	require.NoError(t, err)
	_, err = (&Overrides{Snippets: []*snippet.Snippet{sn}}).Patch("ray-2.55.cfg", cfg, ApplyOptions{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `x.toml:3: template "maxconnrate {{ env \"SL_SET_IN_PROCESS\" }}" in global: at <env "SL_SET_IN_PROCESS">: environment variable SL_SET_IN_PROCESS is not set`)

	sn, err = snippet.Load("x.toml", globalSet(`maxconnrate {{ env "SL_SET_IN_PROCESS" "9" }}`))
	require.NoError(t, err)
	out, err := (&Overrides{Snippets: []*snippet.Snippet{sn}}).Patch("ray-2.55.cfg", cfg, ApplyOptions{})
	require.NoError(t, err)
	assert.Contains(t, string(out), "maxconnrate 9 # serve-launch: x.toml:3")
}
