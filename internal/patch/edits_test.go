package patch

import (
	"bufio"
	"bytes"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/serve-launch/serve-launch/internal/patch/config"
	"github.com/serve-launch/serve-launch/internal/patch/snippet"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// editCase is one testdata/edits/NAME.toml with the settings its leading
// comment lines give:
//
//	# config: ray-master.cfg     the config to patch (default ray-2.55.cfg)
//	# options: no-provenance     ApplyOptions.NoProvenance
//	# env: NAME=VALUE            a variable the env function sees (repeatable)
type editCase struct {
	name   string
	path   string
	data   []byte
	config string
	opt    ApplyOptions
}

func editCases(t testing.TB) []editCase {
	paths, err := filepath.Glob("testdata/edits/*.toml")
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(paths), 15, "the edits golden tests cover every operation")
	var cases []editCase
	for _, path := range paths {
		data := mustRead(t, path)
		c := editCase{name: strings.TrimSuffix(filepath.Base(path), ".toml"), path: path, data: data, config: "ray-2.55.cfg"}
		env := map[string]string{}
		sc := bufio.NewScanner(bytes.NewReader(data))
		for sc.Scan() {
			line := sc.Text()
			if !strings.HasPrefix(line, "#") {
				break
			}
			k, v, ok := strings.Cut(strings.TrimSpace(strings.TrimPrefix(line, "#")), ":")
			if !ok {
				continue
			}
			v = strings.TrimSpace(v)
			switch k {
			case "config":
				c.config = v
			case "options":
				require.Equal(t, "no-provenance", v, "%s: unknown option", path)
				c.opt.NoProvenance = true
			case "env":
				name, val, ok := strings.Cut(v, "=")
				require.True(t, ok, "%s: env wants NAME=VALUE", path)
				env[name] = val
			}
		}
		// Never the process environment: the goldens must not depend on it.
		c.opt.Getenv = func(name string) (string, bool) { v, ok := env[name]; return v, ok }
		cases = append(cases, c)
	}
	return cases
}

// patchWith loads one snippet and applies it to a config.
func patchWith(t testing.TB, snippetName string, data []byte, configName string, cfg []byte, opt ApplyOptions) []byte {
	t.Helper()
	sn, err := snippet.Load(snippetName, data)
	require.NoError(t, err)
	out, err := (&Overrides{Snippets: []*snippet.Snippet{sn}}).Patch(configName, cfg, opt)
	require.NoError(t, err)
	return out
}

func TestEditsGolden(t *testing.T) {
	for _, c := range editCases(t) {
		t.Run(c.name, func(t *testing.T) {
			in := mustRead(t, filepath.Join("testdata", c.config))
			name := filepath.Base(c.path)
			out := patchWith(t, name, c.data, filepath.Base(c.config), in, c.opt)
			golden(t, "edits/"+c.name+".golden", out)

			_, err := config.Parse("out.cfg", out)
			require.NoError(t, err, "the patched file must parse")
			assert.NotEqual(t, string(in), string(out), "the snippet must change something")
			if bytes.Contains(in, []byte("\r\n")) {
				assert.Equal(t, bytes.Count(out, []byte("\n")), bytes.Count(out, []byte("\r\n")),
					"a CRLF config must stay CRLF:\n%q", out)
			}
			if c.opt.NoProvenance {
				assert.NotContains(t, string(out), "serve-launch:")
			}
		})
	}
}

// TestEditsIdempotent applies each edits case to its own output: every
// operation, new sections, add and insert included, must then change nothing.
func TestEditsIdempotent(t *testing.T) {
	for _, c := range editCases(t) {
		t.Run(c.name, func(t *testing.T) {
			in := mustRead(t, filepath.Join("testdata", c.config))
			name := filepath.Base(c.path)
			once := patchWith(t, name, c.data, filepath.Base(c.config), in, c.opt)
			twice := patchWith(t, name, c.data, filepath.Base(c.config), once, c.opt)
			assert.Equal(t, string(once), string(twice), "applying twice must equal applying once")
		})
	}
}

// TestEditsDeterministic applies each case in two separate loads and runs;
// the bytes must be identical (no map order leaks into the output).
func TestEditsDeterministic(t *testing.T) {
	for _, c := range editCases(t) {
		t.Run(c.name, func(t *testing.T) {
			in := mustRead(t, filepath.Join("testdata", c.config))
			name := filepath.Base(c.path)
			first := patchWith(t, name, c.data, filepath.Base(c.config), in, c.opt)
			for range 5 {
				again := patchWith(t, name, bytes.Clone(c.data), filepath.Base(c.config), bytes.Clone(in), c.opt)
				require.Equal(t, string(first), string(again))
			}
		})
	}
}

// TestEditsPassHAProxyCheck runs the real haproxy -c on every edits golden
// patched from a Ray config, so the goldens are configs haproxy accepts.
func TestEditsPassHAProxyCheck(t *testing.T) {
	hap := requireHAProxy(t)
	for _, c := range editCases(t) {
		if c.config == "hostile.cfg" || c.config == "ray-master.cfg" {
			continue // not runnable on haproxy 2.6 to begin with (Lua, tune.h2.fe/be)
		}
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			in := mustRead(t, filepath.Join("testdata", c.config))
			out := patchWith(t, filepath.Base(c.path), c.data, filepath.Base(c.config), in, c.opt)
			path := writeRunnable(t, out)
			msg, err := exec.Command(hap, "-c", "-f", path).CombinedOutput()
			require.NoError(t, err, "haproxy -c: %s", msg)
		})
	}
}

// TestRepoOverridesTwoRuns patches with the repository's overrides in two
// separate loads: identical bytes, and the second pass over the first output
// changes nothing.
func TestRepoOverridesTwoRuns(t *testing.T) {
	in := mustRead(t, "testdata/ray-2.55.cfg")
	a, err := repoOverrides(t).Patch("ray-2.55.cfg", in, ApplyOptions{Getenv: noEnv})
	require.NoError(t, err)
	b, err := repoOverrides(t).Patch("ray-2.55.cfg", in, ApplyOptions{Getenv: noEnv})
	require.NoError(t, err)
	assert.Equal(t, string(a), string(b))
	c, err := repoOverrides(t).Patch("ray-2.55.cfg", a, ApplyOptions{Getenv: noEnv})
	require.NoError(t, err)
	assert.Equal(t, string(a), string(c))
}

// TestAddAfterSetOfTheSameKey: an add that puts a second line of a key a
// set keeps to one line is refused, in the same edit and across snippets.
// Allowed, the next patch of the patched file would move the line (the
// fuzzer found it: set "timeout server 0", add "timeout server", "0"), and
// haproxy reads only one of the two.
func TestAddAfterSetOfTheSameKey(t *testing.T) {
	cfg := mustRead(t, "testdata/ray-2.55.cfg")
	load := func(name, body string) *snippet.Snippet {
		sn, err := snippet.Load(name, []byte(body))
		require.NoError(t, err)
		return sn
	}
	tests := []struct {
		name     string
		snippets []*snippet.Snippet
		want     string
	}{
		{"same edit", []*snippet.Snippet{load("10-a.toml", "[[edit]]\nsection = \"defaults\"\nset = [\"timeout server 5s\"]\nadd = [\"timeout server 10s\"]\n")},
			`10-a.toml:4: add: "timeout server 10s" adds a second "timeout server" line to defaults, which set at 10-a.toml:3 keeps to one line; drop the add or the set`},
		{"later snippet", []*snippet.Snippet{
			load("10-a.toml", "[[edit]]\nsection = \"defaults\"\nset = [\"timeout server 5s\"]\n"),
			load("20-b.toml", "[[edit]]\nsection = \"defaults\"\nadd = [\"timeout server 10s\"]\n"),
		}, `20-b.toml:3: add: "timeout server 10s" adds a second "timeout server" line to defaults, which set at 10-a.toml:3 keeps to one line`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := (&Overrides{Snippets: tt.snippets}).Patch("ray-2.55.cfg", cfg, ApplyOptions{Getenv: noEnv})
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}

	// The same line added again is no second line: add stays idempotent.
	out := patchWith(t, "10-a.toml", []byte("[[edit]]\nsection = \"defaults\"\nset = [\"timeout server 5s\"]\nadd = [\"timeout server 5s\"]\n"), "ray-2.55.cfg", cfg, ApplyOptions{Getenv: noEnv})
	assert.Equal(t, 1, strings.Count(string(out), "timeout server "))
	// A set after the add keeps one line, as set always does.
	out = patchWith(t, "10-a.toml", []byte("[[edit]]\nsection = \"defaults\"\nadd = [\"timeout server 10s\"]\n[[edit]]\nsection = \"defaults\"\nset = [\"timeout server 5s\"]\n"), "ray-2.55.cfg", cfg, ApplyOptions{Getenv: noEnv})
	assert.Equal(t, 1, strings.Count(string(out), "timeout server "))
	assert.Contains(t, string(out), "timeout server 5s")
}

// TestFirstStartHasNoAppBackends: Ray starts haproxy before its first routes
// arrive, on a config whose only backend is default_backend. An edit of
// application backends matches nothing there and must not fail that start
// (it applies at the reload that brings the apps); a selector of another
// kind, or of backends in a config that has them, still must match.
func TestFirstStartHasNoAppBackends(t *testing.T) {
	first := mustRead(t, "testdata/ray-2.55-first-start.cfg")
	routed := mustRead(t, "testdata/ray-2.55.cfg")
	patch := func(cfg []byte, body string) ([]byte, error) {
		sn, err := snippet.Load("10-a.toml", []byte(body))
		require.NoError(t, err)
		return (&Overrides{Snippets: []*snippet.Snippet{sn}}).Patch("haproxy.cfg", cfg, ApplyOptions{Getenv: noEnv})
	}
	apps := "[[edit]]\nsection = \"backend *\"\nexclude = [\"default_backend\"]\nset = [\"option httpchk GET /health\"]\n" +
		"[[edit]]\nsection = \"defaults\"\nset = [\"timeout queue 5s\"]\n"
	out, err := patch(first, apps)
	require.NoError(t, err, "the first start must not fail on edits of app backends")
	assert.NotContains(t, string(out), "httpchk GET /health")
	assert.Contains(t, string(out), "timeout queue 5s # serve-launch: 10-a.toml:7", "the other edits still apply")

	out, err = patch(routed, apps)
	require.NoError(t, err)
	assert.Contains(t, string(out), "option httpchk GET /health # serve-launch: 10-a.toml:4")

	_, err = patch(routed, "[[edit]]\nsection = \"backend api-*\"\nset = [\"retries 2\"]\n")
	require.Error(t, err, "with app backends, a backend selector that matches none is still an error")
	assert.Contains(t, err.Error(), `section "backend api-*" matches no section`)
	_, err = patch(first, "[[edit]]\nsection = \"frontend nope\"\nset = [\"retries 2\"]\n")
	require.Error(t, err, "only backend selectors wait for the routes")

	// An insert anchored on the routing rules (the cookbook's client rate
	// limit) finds none on the first start, and lands with the routes.
	rate := "[[edit]]\nsection = \"frontend http_frontend\"\n" +
		"insert = [{ before = \"use_backend *\", lines = [\"http-request deny deny_status 429 if { sc_http_req_rate(0) gt 20 }\"] }]\n"
	out, err = patch(first, rate)
	require.NoError(t, err)
	assert.NotContains(t, string(out), "deny_status 429")
	out, err = patch(routed, rate)
	require.NoError(t, err)
	assert.Contains(t, string(out), "deny_status 429")
	_, err = patch(routed, strings.Replace(rate, "use_backend *", "use_backnd *", 1))
	require.Error(t, err, "with the routes there, an anchor that matches nothing is still an error")
}

// TestFirstStartNeedsDefaultBackend: the first-start rule is for Ray's
// config before any route, whose only backend is default_backend. A file
// with no backend at all (no sections, or not Ray's) is no first start: a
// backend selector or an insert anchor that matches nothing is an error
// there, as it was before the rule.
func TestFirstStartNeedsDefaultBackend(t *testing.T) {
	patch := func(cfg, body string) error {
		sn, err := snippet.Load("10-a.toml", []byte(body))
		require.NoError(t, err)
		_, err = (&Overrides{Snippets: []*snippet.Snippet{sn}}).Patch("haproxy.cfg", []byte(cfg), ApplyOptions{Getenv: noEnv})
		return err
	}
	backends := "[[edit]]\nsection = \"backend *\"\nexclude = [\"default_backend\"]\nset = [\"option httpchk GET /health\"]\n"
	tests := []struct {
		name, cfg, body, want string
	}{
		{"no sections", "Meeting notes: move haproxy to port 8080.\n", backends,
			`section "backend *" matches no section; the config has no sections at all`},
		{"no backend", "global\n    maxconn 10\nfrontend f\n    bind :80\n", backends,
			`section "backend *" matches no section; the config has: global, frontend f`},
		{"insert anchor, no backend", "global\n    maxconn 10\nfrontend f\n    bind :80\n",
			"[[edit]]\nsection = \"frontend f\"\ninsert = [{ before = \"use_backend *\", lines = [\"http-request deny\"] }]\n",
			`insert before "use_backend *": no line of frontend f matches`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := patch(tt.cfg, tt.body)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

// TestAddAfterSetKeepingTheLine: a set whose line the config already has
// keeps that line as it is; an add of a second line of that key is still
// refused, or the next patch of the patched file moves it (set removes it,
// add puts it back at the end) and haproxy reads one of the two.
func TestAddAfterSetKeepingTheLine(t *testing.T) {
	cfg := mustRead(t, "testdata/ray-2.55.cfg")
	require.Contains(t, string(cfg), "timeout client 3600s")
	sn, err := snippet.Load("10-a.toml", []byte("[[edit]]\nsection = \"defaults\"\nset = [\"timeout client 3600s\"]\nadd = [\"timeout client 10s\"]\n"))
	require.NoError(t, err)
	_, err = (&Overrides{Snippets: []*snippet.Snippet{sn}}).Patch("ray-2.55.cfg", cfg, ApplyOptions{Getenv: noEnv})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `10-a.toml:4: add: "timeout client 10s" adds a second "timeout client" line to defaults, which set at 10-a.toml:3 keeps to one line`)
}
