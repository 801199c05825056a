package migrate

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/serve-launch/serve-launch/internal/envmap"
	"github.com/serve-launch/serve-launch/internal/patch"
	"github.com/serve-launch/serve-launch/internal/patch/config"
	"github.com/serve-launch/serve-launch/internal/patch/hapcheck"
	"github.com/serve-launch/serve-launch/internal/patch/load"
	"github.com/serve-launch/serve-launch/internal/patch/snippet"
	"github.com/serve-launch/serve-launch/internal/raycfg"
	"github.com/serve-launch/serve-launch/internal/testing/testenv"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// cases are the external configs of testdata: the user story's
// start-haproxy.sh config, a tab-indented one with listen sections and
// several backends, and a minimal one with bits that must not be carried.
var cases = []struct {
	name    string
	servers int
}{
	{name: "user-story", servers: 6},
	{name: "tabbed-listen", servers: 4}, // text-c is a backup
	{name: "minimal", servers: 1},
}

func migrateCase(t *testing.T, name string) *Result {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name+".cfg"))
	require.NoError(t, err)
	res, err := Migrate(Options{Name: name + ".cfg", Data: data})
	require.NoError(t, err)
	return res
}

// TestGolden compares the env file, the snippet and the report of each
// migration with testdata/golden/NAME/, and checks a second run is identical.
func TestGolden(t *testing.T) {
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := migrateCase(t, tc.name)
			assert.Equal(t, tc.servers, res.Servers)
			got := map[string][]byte{
				EnvFileName: res.EnvFile(),
				SnippetName: res.Snippet(),
				"report.md": res.Report(),
			}
			again := migrateCase(t, tc.name)
			assert.Equal(t, string(got[EnvFileName]), string(again.EnvFile()), "second run")
			assert.Equal(t, string(got[SnippetName]), string(again.Snippet()), "second run")
			assert.Equal(t, string(got["report.md"]), string(again.Report()), "second run")

			dir := filepath.Join("testdata", "golden", tc.name)
			for file, data := range got {
				testenv.Golden(t, filepath.Join(dir, file), data)
			}
		})
	}
}

// applied is a migration written to disk and laid over Ray's 2.55 shape:
// the env file through raysim's renderer, then the snippet.
type applied struct {
	env     map[string]string
	patched *config.File
}

func applyMigration(t *testing.T, res *Result, dir string, extraEnv map[string]string) applied {
	t.Helper()
	require.NoError(t, res.WriteDir(dir))
	loaded, err := envmap.Load(envmap.Options{EnvFiles: []string{filepath.Join(dir, EnvFileName)}, NoFileLimit: 1 << 30})
	require.NoError(t, err, "the env file must load without errors")
	env := map[string]string{}
	for _, s := range loaded.Settings() {
		if s.Set {
			env[s.Var.Name] = s.Value
		}
	}
	for k, v := range extraEnv {
		env[k] = v
	}
	generated, err := RenderDefault(res.Servers, env)
	require.NoError(t, err)
	o, err := load.Dir(filepath.Join(dir, SnippetDir), load.Options{Warn: func(msg string) { t.Errorf("snippet warning: %s", msg) }})
	require.NoError(t, err, "the snippet must load")
	f, err := config.Parse("ray.cfg", generated)
	require.NoError(t, err)
	require.NoError(t, o.Apply(f, patch.ApplyOptions{}), "the snippet must apply to Ray's 2.55 shape")
	return applied{env: env, patched: f}
}

// sectionsFor returns the sections of f a row's Target selects.
func sectionsFor(f *config.File, target string) []*config.Section {
	if target == "backend *" {
		var ss []*config.Section
		for _, s := range f.Sections {
			if s.Kind == "backend" && s.Name != "default_backend" {
				ss = append(ss, s)
			}
		}
		return ss
	}
	kind, name, _ := strings.Cut(target, " ")
	return f.Find(kind, name)
}

// sameValue reports whether Ray's words say what theirs say: equal words, or
// equal HAProxy times ("2m" and "120s"), or for a bind the same port.
func sameValue(their, ray []string) bool {
	if len(their) != len(ray) {
		return false
	}
	for i := range their {
		if their[i] == ray[i] || sameTime(their[i], ray[i]) {
			continue
		}
		if their[0] == "bind" && i == 1 && port(their[i]) == port(ray[i]) {
			continue
		}
		return false
	}
	return true
}

func port(addr string) string { return addr[strings.LastIndex(addr, ":")+1:] }

// hasDirective looks for their setting in section s, and for a proxy in
// Ray's defaults too, since that is in effect there.
func hasDirective(f *config.File, s *config.Section, row Row, their []string) bool {
	look := []*config.Section{s}
	if s.Kind == "frontend" || s.Kind == "backend" || s.Kind == "listen" {
		look = append(look, f.Find("defaults", "")...)
	}
	for _, sec := range look {
		for _, l := range sec.Body {
			if !l.IsDirective() {
				continue
			}
			if row.Param {
				if l.Keyword() == "default-server" && hasParam(l.Words()[1:], their) {
					return true
				}
				continue
			}
			if (l.Key() == config.Key(their) || their[0] == "bind" && l.Keyword() == "bind") && sameValue(their, l.Words()) {
				return true
			}
		}
		if row.Param {
			return false // a default-server in defaults does not count: Ray's is in the backend
		}
	}
	return false
}

func hasParam(words, want []string) bool {
	for _, p := range parseParams(words, nil, 0) {
		if p.name != want[0] {
			continue
		}
		if len(want) == 1 {
			return p.flag
		}
		return p.value == want[1] || sameTime(p.value, want[1])
	}
	return false
}

// TestAppliedToRayShape writes each migration, renders Ray's 2.55 shape with
// its env file, applies its snippet, and checks that every setting reported
// as carried (or already the default) is in the right Ray section with their
// value, and that haproxy -c accepts the result.
func TestAppliedToRayShape(t *testing.T) {
	hap := testenv.HAProxy(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := migrateCase(t, tc.name)
			a := applyMigration(t, res, t.TempDir(), nil)
			checked := 0
			for _, row := range res.Rows {
				if row.How == NotCarried {
					continue
				}
				require.NotEmpty(t, row.Target, "row %s:%d %s has no target", tc.name, row.Pos.Line, row.Setting)
				secs := sectionsFor(a.patched, row.Target)
				require.NotEmpty(t, secs, "row %s:%d: no section %q in the result", tc.name, row.Pos.Line, row.Target)
				their := strings.Fields(row.Their)
				for _, s := range secs {
					assert.True(t, hasDirective(a.patched, s, row, their),
						"%s:%d %q (%s: %s) is not in %s of the result:\n%s", tc.name, row.Pos.Line, row.Their, row.How, row.Detail, s.Title(), a.patched.Render())
				}
				checked++
			}
			assert.NotZero(t, checked)

			// haproxy -c needs the paths Ray points at to exist (500.http);
			// the rest is unchanged. maxconn stays as migrated: -c does not
			// raise the fd limit, so 130000 passes on this 20000-fd machine.
			dir := t.TempDir()
			require.NoError(t, os.WriteFile(filepath.Join(dir, "500.http"), []byte(raycfg.ErrorFileContent), 0o644))
			paths := map[string]string{
				"RAY_SERVE_HAPROXY_CONFIG_FILE_LOC":   filepath.Join(dir, "haproxy.cfg"),
				"RAY_SERVE_HAPROXY_SOCKET_PATH":       filepath.Join(dir, "admin.sock"),
				"RAY_SERVE_HAPROXY_SERVER_STATE_BASE": dir,
				"RAY_SERVE_HAPROXY_SERVER_STATE_FILE": filepath.Join(dir, "server-state"),
			}
			c := applyMigration(t, res, t.TempDir(), paths)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			out, err := hapcheck.Check(ctx, hap, c.patched)
			require.NoError(t, err)
			for _, m := range out.Messages {
				if m.FromSnippet {
					t.Errorf("haproxy on a line the snippet wrote: %s", m)
				}
			}
			assert.True(t, out.OK, "haproxy -c rejects the migrated config:\n%s\n%s", out.Output, c.patched.Render())
		})
	}
}

// TestGeneratedGiven compares with a config Ray generated instead of the
// rendered defaults: Ray's own values there decide what "Ray's" shows.
func TestGeneratedGiven(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "user-story.cfg"))
	require.NoError(t, err)
	gen, err := os.ReadFile(filepath.Join("..", "patch", "testdata", "ray-2.55.cfg"))
	require.NoError(t, err)
	res, err := Migrate(Options{Name: "user-story.cfg", Data: data, GeneratedName: "ray-2.55.cfg", Generated: gen})
	require.NoError(t, err)
	assert.False(t, res.Rendered)
	o, err := snippet.Load(SnippetName, res.Snippet())
	require.NoError(t, err)
	_, err = (&patch.Overrides{Snippets: []*snippet.Snippet{o}}).Patch("ray-2.55.cfg", gen, patch.ApplyOptions{})
	require.NoError(t, err)
	assert.Contains(t, string(res.Report()), "Compared with: ray-2.55.cfg.")
}

func TestParseTime(t *testing.T) {
	tests := []struct {
		name, in string
		us       int64
		ok       bool
	}{
		{name: "no unit is ms", in: "1500", us: 1500000, ok: true},
		{name: "seconds", in: "5s", us: 5000000, ok: true},
		{name: "minutes", in: "1m", us: 60000000, ok: true},
		{name: "hours", in: "1h", us: 3600000000, ok: true},
		{name: "micro", in: "10us", us: 10, ok: true},
		{name: "bad unit", in: "5x", ok: false},
		{name: "empty", in: "", ok: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, ok := envmap.ParseTime(tc.in)
			assert.Equal(t, tc.ok, ok)
			assert.Equal(t, tc.us, d.Microseconds())
		})
	}
	sec, ok := wholeSeconds("2m")
	assert.True(t, ok)
	assert.Equal(t, "120", sec)
	_, ok = wholeSeconds("1500ms")
	assert.False(t, ok)
}

// TestUserStory spells out the settings of a team's hand-run haproxy
// (testdata's user-story case) and where each must end up once their
// migration is applied to Ray's 2.55 shape.
func TestUserStory(t *testing.T) {
	res := migrateCase(t, "user-story")
	a := applyMigration(t, res, t.TempDir(), nil)
	tests := []struct {
		name, section, line string
	}{
		{name: "maxconn", section: "global", line: "maxconn 130000"},
		{name: "nbthread", section: "global", line: "nbthread 4"},
		{name: "maxconnrate", section: "global", line: "maxconnrate 3072"},
		{name: "maxsessrate", section: "global", line: "maxsessrate 3072"},
		{name: "timeout connect", section: "defaults", line: "timeout connect 5s"},
		{name: "timeout client", section: "defaults", line: "timeout client 60s"},
		{name: "timeout server", section: "defaults", line: "timeout server 120s"},
		{name: "timeout http-request", section: "defaults", line: "timeout http-request 30s"},
		{name: "timeout queue", section: "defaults", line: "timeout queue 60s"},
		{name: "redispatch", section: "defaults", line: "option redispatch"},
		{name: "retries", section: "defaults", line: "retries 1"},
		{name: "keep-alive", section: "defaults", line: "option http-keep-alive"},
		{name: "balance", section: "defaults", line: "balance leastconn"},
		{name: "http-reuse", section: "backend http-app", line: "http-reuse aggressive"},
		{name: "httpchk", section: "backend http-app", line: "option httpchk GET /health"},
		{name: "default-server", section: "backend http-app", line: "default-server fastinter 1s downinter 250ms fall 2 rise 2 inter 5s check maxconn 32"},
		{name: "metrics", section: "frontend prometheus", line: "bind :9101"},
		{name: "stats", section: "listen stats", line: "bind *:8404"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			kind, name, _ := strings.Cut(tc.section, " ")
			secs := a.patched.Find(kind, name)
			require.Len(t, secs, 1)
			var have []string
			for _, l := range secs[0].Body {
				if l.IsDirective() {
					have = append(have, strings.Join(l.Words(), " "))
				}
			}
			assert.Contains(t, have, tc.line)
		})
	}
	for _, l := range a.patched.Find("backend", "http-app")[0].Body {
		assert.NotEqual(t, "option httpchk GET /-/healthz", strings.Join(l.Words(), " "), "set of option httpchk must replace Ray's health check")
	}
	assert.Len(t, res.Notes, 2, "maxconnrate and maxsessrate are reported as derived from 6 servers")
}

// TestOddInputs migrates the patch package's fixtures (Ray's own configs,
// CRLF, no final newline, hostile quoting): each must give a snippet that
// loads and applies, and two runs must agree.
func TestOddInputs(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join("..", "patch", "testdata", "*.cfg"))
	require.NoError(t, err)
	require.NotEmpty(t, paths)
	for _, p := range paths {
		t.Run(filepath.Base(p), func(t *testing.T) {
			data, err := os.ReadFile(p)
			require.NoError(t, err)
			res, err := Migrate(Options{Name: filepath.Base(p), Data: data})
			if err != nil {
				var list config.ErrorList
				require.ErrorAs(t, err, &list, "only their own parse errors may stop a migration")
				return
			}
			_, err = res.Verify()
			require.NoError(t, err, "snippet:\n%s", res.Snippet())
			again, err := Migrate(Options{Name: filepath.Base(p), Data: data})
			require.NoError(t, err)
			assert.Equal(t, string(res.Report()), string(again.Report()))
		})
	}
}

// TestFitVar proves a value goes to the env file only when `serve-launch
// run` would accept it there (envmap's checks), in the variable's unit.
func TestFitVar(t *testing.T) {
	tests := []struct {
		name, var_, in string
		val            string
		isDefault      bool
		why            string // substring; "" when it fits
	}{
		{name: "seconds from minutes", var_: "RAY_SERVE_HAPROXY_TIMEOUT_CLIENT_S", in: "1m", val: "60"},
		{name: "seconds, default", var_: "RAY_SERVE_HAPROXY_TIMEOUT_CLIENT_S", in: "1h", val: "3600", isDefault: true},
		{name: "not whole seconds", var_: "RAY_SERVE_HAPROXY_TIMEOUT_CONNECT_S", in: "1500ms", why: "takes whole seconds"},
		{name: "omitted has no default", var_: "RAY_SERVE_HAPROXY_TIMEOUT_SERVER_S", in: "0s", val: "0"},
		{name: "time in another unit is the default", var_: "RAY_SERVE_HAPROXY_HEALTH_CHECK_INTER", in: "5000", val: "5000", isDefault: true},
		{name: "time over haproxy's limit", var_: "RAY_SERVE_HAPROXY_HEALTH_CHECK_INTER", in: "30d", why: "at most 2147483647ms"},
		{name: "port out of range", var_: "RAY_SERVE_HAPROXY_METRICS_PORT", in: "70000", why: "takes a port from 1 to 65535"},
		{name: "zero maxconn", var_: "RAY_SERVE_HAPROXY_MAXCONN", in: "0", why: "takes a positive integer"},
		{name: "balance with an argument", var_: "RAY_SERVE_HAPROXY_BALANCE_ALGORITHM", in: "hdr(host)", val: "hdr(host)"},
		{name: "balance unknown", var_: "RAY_SERVE_HAPROXY_BALANCE_ALGORITHM", in: "fastest", why: "takes one of roundrobin"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v, ok := envmap.Lookup(tc.var_)
			require.True(t, ok)
			val, isDefault, why := fitVar(v, tc.in)
			if tc.why != "" {
				assert.Contains(t, why, tc.why)
				return
			}
			assert.Empty(t, why)
			assert.Equal(t, tc.val, val)
			assert.Equal(t, tc.isDefault, isDefault)
		})
	}
}

// TestServerCount proves the replica count follows their server lines and
// templates, and that a count too large to render Ray's config with is an
// error at the line that passes the limit (3,000,000 slots ran out of memory).
func TestServerCount(t *testing.T) {
	tests := []struct {
		name, body string
		servers    int
		err        string
	}{
		{name: "template range", body: "backend a\n  server-template s 3-5 127.0.0.1:80\n", servers: 3},
		{name: "template count and a backup", body: "backend a\n  server-template s 4 127.0.0.1:80\n  server b 127.0.0.1:81 backup\n", servers: 4},
		{name: "same names in two backends", body: "backend a\n  server s1 127.0.0.1:80\nbackend b\n  server s1 127.0.0.1:81\n", servers: 2},
		{name: "largest range", body: "backend a\n  server-template s 0-9223372036854775807 127.0.0.1:80\n", err: "c.cfg:4: more than 65536"},
		{name: "not a range", body: "backend a\n  server-template s x-2 127.0.0.1:80\n  server s1 127.0.0.1:81\n", servers: 1},
		{name: "template too large", body: "backend a\n  server s1 127.0.0.1:81\n  server-template s 1-3000000 127.0.0.1:80\n", err: "c.cfg:5: more than 65536 replica servers"},
		{name: "templates too large together", body: "backend a\n  server-template s 60000 127.0.0.1:80\nbackend b\n  server-template s 60000 127.0.0.1:80\n", err: "c.cfg:6: more than 65536 replica servers"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Migrate(Options{Name: "c.cfg", Data: []byte("defaults\n  mode http\n" + tc.body)})
			if tc.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.servers, res.Servers)
		})
	}
}

// TestPreambleReported checks that a directive before the first section,
// which haproxy refuses, is a row of the report rather than left out.
func TestPreambleReported(t *testing.T) {
	data := []byte("# tuned by hand\nmaxconn 100\nglobal\n    nbthread 2\n")
	res, err := Migrate(Options{Name: "pre.cfg", Data: data})
	require.NoError(t, err)
	require.NotEmpty(t, res.Rows)
	r := res.Rows[0]
	assert.Equal(t, "before any section: maxconn", r.Setting)
	assert.Equal(t, 2, r.Pos.Line)
	assert.Equal(t, NotCarried, r.How)
	assert.Contains(t, r.Detail, "outside any section")
	assert.Len(t, res.Rows, 2, "the comment is no setting")
}

// TestLaterLineWins checks that a directive repeated in one section is
// carried with its last value, the one HAProxy uses, and the earlier line is
// reported as overridden; before, the first value was carried and the one in
// effect was reported as a conflict.
func TestLaterLineWins(t *testing.T) {
	data := []byte(`global
    hard-stop-after 10s
    hard-stop-after 20s
global
    nbthread 2
    nbthread 8
defaults
    timeout client 10s
    timeout client 20s
    retries 3
    retries 2
    option redispatch
    no option redispatch
backend be
    balance source
    balance roundrobin
    server s0 127.0.0.1:30000
`)
	res, err := Migrate(Options{Name: "dup.cfg", Data: data})
	require.NoError(t, err)
	env := res.EnvMap()
	assert.Equal(t, "20", env["RAY_SERVE_HAPROXY_HARD_STOP_AFTER_S"])
	assert.Equal(t, "8", env["RAY_SERVE_HAPROXY_NBTHREAD"])
	assert.Equal(t, "20", env["RAY_SERVE_HAPROXY_TIMEOUT_CLIENT_S"])
	assert.Equal(t, "roundrobin", env["RAY_SERVE_HAPROXY_BALANCE_ALGORITHM"])
	snippet := string(res.Snippet())
	assert.Contains(t, snippet, "'retries 2'")
	assert.NotContains(t, snippet, "'retries 3'")
	assert.Contains(t, snippet, "'no option redispatch'")
	for _, r := range res.Rows {
		switch r.Pos.Line {
		case 2, 5, 8, 10, 12, 15:
			assert.Equal(t, NotCarried, r.How, "dup.cfg:%d %s", r.Pos.Line, r.Their)
			assert.Contains(t, r.Detail, "the later line wins", "dup.cfg:%d", r.Pos.Line)
		case 3, 6, 9, 11, 13, 16:
			assert.NotEqual(t, NotCarried, r.How, "dup.cfg:%d %s: %s", r.Pos.Line, r.Their, r.Detail)
		}
	}
	f, err := res.Verify()
	require.NoError(t, err)
	assert.Contains(t, string(f.Render()), "hard-stop-after 20s")
}

// TestFrontendModeNotCarried checks that their frontend's "mode tcp" is
// reported, not set on Ray's http_frontend, where it would turn Ray's HTTP
// routing and health check into a TCP proxy.
func TestFrontendModeNotCarried(t *testing.T) {
	data := []byte("frontend fe\n    mode tcp\n    bind :8000\n    default_backend be\nbackend be\n    mode tcp\n    server s0 127.0.0.1:30000\n")
	res, err := Migrate(Options{Name: "tcp.cfg", Data: data})
	require.NoError(t, err)
	assert.NotContains(t, string(res.Snippet()), "mode tcp")
	for _, r := range res.Rows {
		if r.Their == "mode tcp" {
			assert.Equal(t, NotCarried, r.How, "tcp.cfg:%d", r.Pos.Line)
			assert.Contains(t, r.Detail, "HTTP mode")
		}
	}
}

// TestHTTPCheckRulesReplaceRays checks that their http-check rules end up as
// the whole health check of Ray's application backends, in their order.
// Added after Ray's own "http-check expect status 200" they chained onto
// it: "expect status 200-399" still failed a replica answering 204, and a
// "send" ran only after Ray's expect.
func TestHTTPCheckRulesReplaceRays(t *testing.T) {
	tests := []struct {
		name, cfg string
		want      []string
	}{
		{
			name: "wider expect",
			cfg:  "backend be\n    option httpchk GET /health\n    http-check expect status 200-399\n    server s0 127.0.0.1:30000 check\n",
			want: []string{"http-check expect status 200-399"},
		},
		{
			name: "send before Ray's expect",
			cfg:  "backend be\n    option httpchk\n    http-check send meth GET uri /health hdr Host model\n    http-check expect status 200\n    server s0 127.0.0.1:30000 check\n",
			want: []string{"http-check send meth GET uri /health hdr Host model", "http-check expect status 200"},
		},
		{
			name: "backend rules override defaults",
			cfg:  "defaults\n    http-check expect status 204\nbackend be\n    http-check expect rstatus ^2\n    server s0 127.0.0.1:30000 check\n",
			want: []string{"http-check expect rstatus ^2"},
		},
		{
			name: "defaults rules",
			cfg:  "defaults\n    http-check expect status 204\nbackend be\n    server s0 127.0.0.1:30000 check\n",
			want: []string{"http-check expect status 204"},
		},
		{
			name: "same as Ray",
			cfg:  "backend be\n    http-check expect status 200\n    server s0 127.0.0.1:30000 check\n",
			want: []string{"http-check expect status 200"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Migrate(Options{Name: "hc.cfg", Data: []byte(tc.cfg)})
			require.NoError(t, err)
			f, err := res.Verify()
			require.NoError(t, err, "snippet:\n%s", res.Snippet())
			var got []string
			for _, l := range f.Find("backend", "http-app")[0].Body {
				if l.IsDirective() && l.Keyword() == "http-check" {
					got = append(got, strings.Join(l.Words(), " "))
				}
			}
			assert.Equal(t, tc.want, got, "snippet:\n%s", res.Snippet())
			for _, r := range res.Rows {
				if strings.HasPrefix(r.Their, "http-check") {
					carried := r.How != NotCarried
					assert.Equal(t, slices.Contains(tc.want, r.Their), carried, "hc.cfg:%d %s: %s", r.Pos.Line, r.Their, r.Detail)
				}
			}
		})
	}
}

// TestUnusedDefaultServerReported checks that default-server parameters no
// replica section takes are rows of the report: those of a defaults section
// the replica backends do not use, and those a later parameter replaces.
// Both were left out of the report without a word.
func TestUnusedDefaultServerReported(t *testing.T) {
	data := []byte(`defaults web
    default-server maxconn 10
defaults apps
    default-server inter 3s slowstart 5s
backend be from apps
    default-server inter 1s
    server s0 127.0.0.1:30000 check
`)
	res, err := Migrate(Options{Name: "ds.cfg", Data: data})
	require.NoError(t, err)
	rows := map[string]Row{}
	for _, r := range res.Rows {
		rows[fmt.Sprintf("%d %s", r.Pos.Line, r.Their)] = r
	}
	require.Contains(t, rows, "2 maxconn 10")
	assert.Equal(t, NotCarried, rows["2 maxconn 10"].How)
	assert.Contains(t, rows["2 maxconn 10"].Detail, "defaults web applies to no backend")
	require.Contains(t, rows, "4 inter 3s")
	assert.Equal(t, NotCarried, rows["4 inter 3s"].How)
	assert.Contains(t, rows["4 inter 3s"].Detail, "replaced by a later inter")
	require.Contains(t, rows, "4 slowstart 5s")
	assert.Equal(t, BySnippet, rows["4 slowstart 5s"].How)
	require.Contains(t, rows, "6 inter 1s")
	assert.Equal(t, ByVariable, rows["6 inter 1s"].How)
}

// TestSetVarCarried checks that http-request set-var(NAME) and
// unset-var(NAME), safe actions, are carried: the variable name is part of
// the action word, so the lookup of "set-var(txn.model)" never matched.
func TestSetVarCarried(t *testing.T) {
	data := []byte("backend be\n    http-request set-var(txn.model) str(m1)\n    http-request unset-var(txn.x)\n    server s0 127.0.0.1:30000\n")
	res, err := Migrate(Options{Name: "var.cfg", Data: data})
	require.NoError(t, err)
	for _, r := range res.Rows {
		if strings.HasPrefix(r.Their, "http-request") {
			assert.Equal(t, BySnippet, r.How, "var.cfg:%d %s: %s", r.Pos.Line, r.Their, r.Detail)
		}
	}
	f, err := res.Verify()
	require.NoError(t, err)
	assert.Contains(t, string(f.Render()), "http-request set-var(txn.model) str(m1)")
}

// TestEmptyWordCarried: an empty word ("" in haproxy.cfg) is an argument
// of its own, and the snippet keeps it.
func TestEmptyWordCarried(t *testing.T) {
	data := []byte("backend be\n    http-request set-header X-Empty \"\"\n    server s0 127.0.0.1:30000\n")
	res, err := Migrate(Options{Name: "empty.cfg", Data: data})
	require.NoError(t, err)
	assert.Contains(t, string(res.Snippet()), `'http-request set-header X-Empty ""'`)
	f, err := res.Verify()
	require.NoError(t, err)
	assert.Contains(t, string(f.Render()), `http-request set-header X-Empty ""`)
}

// TestLaterLineSameAsRays checks that a repeated directive whose later line
// says what Ray's config already says leaves Ray's line alone: the earlier
// value of theirs, which HAProxy does not use, is not carried over it.
func TestLaterLineSameAsRays(t *testing.T) {
	data := []byte("global\n    stats timeout 10s\n    stats timeout 30s\nbackend be\n    server s0 127.0.0.1:30000\n")
	res, err := Migrate(Options{Name: "dup.cfg", Data: data})
	require.NoError(t, err)
	assert.NotContains(t, string(res.Snippet()), "stats timeout 10s", "their config runs stats timeout 30s, as Ray's does")
	for _, r := range res.Rows {
		switch r.Pos.Line {
		case 2:
			assert.Equal(t, NotCarried, r.How, "dup.cfg:2: %s", r.Detail)
			assert.Contains(t, r.Detail, "overridden in their config by line 3")
		case 3:
			assert.Equal(t, ByDefault, r.How, "dup.cfg:3: %s", r.Detail)
		}
	}
	f, err := res.Verify()
	require.NoError(t, err)
	assert.Contains(t, string(f.Render()), "stats timeout 30s")
	assert.NotContains(t, string(f.Render()), "stats timeout 10s")
}

// TestFirstLineWinsInGlobal checks the global keywords where HAProxy keeps
// the first line and only logs an alert for a later one ("'maxconn' already
// specified. Continuing."): the first value is carried, the later line is
// reported as not used.
func TestFirstLineWinsInGlobal(t *testing.T) {
	data := []byte("global\n    maxconn 1000\n    maxconn 2000\n    maxconnrate 300\n    maxconnrate 900\n" +
		"global\n    maxsessrate 50\n    maxsessrate 70\nbackend be\n    server s0 127.0.0.1:30000\n")
	res, err := Migrate(Options{Name: "dup.cfg", Data: data})
	require.NoError(t, err)
	assert.Equal(t, "1000", res.EnvMap()["RAY_SERVE_HAPROXY_MAXCONN"])
	snippet := string(res.Snippet())
	assert.Contains(t, snippet, "'maxconnrate 300'")
	assert.NotContains(t, snippet, "'maxconnrate 900'")
	assert.Contains(t, snippet, "'maxsessrate 50'")
	assert.NotContains(t, snippet, "'maxsessrate 70'")
	for _, r := range res.Rows {
		switch r.Pos.Line {
		case 2, 4, 7:
			assert.NotEqual(t, NotCarried, r.How, "dup.cfg:%d %s: %s", r.Pos.Line, r.Their, r.Detail)
		case 3, 5, 8:
			assert.Equal(t, NotCarried, r.How, "dup.cfg:%d %s", r.Pos.Line, r.Their)
			assert.Contains(t, r.Detail, "HAProxy keeps the first", "dup.cfg:%d", r.Pos.Line)
		}
	}
}

// TestReportWidth: the report is read in terminals, so no line of it passes
// 100 columns, and it names their config once (each setting by its line).
func TestReportWidth(t *testing.T) {
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			report := string(migrateCase(t, tc.name).Report())
			for i, line := range strings.Split(report, "\n") {
				assert.LessOrEqual(t, len(line), 100, "line %d: %s", i+1, line)
			}
			assert.Equal(t, 1, strings.Count(report, tc.name+".cfg"), "their config is named in the title only")
		})
	}
}

// TestSnippetNotOptional: the app-backend edit is not optional, which would
// hide a config whose backends it no longer matches; Ray's first start,
// before any app backend, is what the engine lets such an edit wait for.
func TestSnippetNotOptional(t *testing.T) {
	res := migrateCase(t, "user-story")
	assert.NotContains(t, string(res.Snippet()), "optional")
	sn, err := snippet.Load(SnippetName, res.Snippet())
	require.NoError(t, err)
	first, err := raycfg.Render(raycfg.Options{Shape: raycfg.Shape255, Env: res.EnvMap()})
	require.NoError(t, err)
	_, err = (&patch.Overrides{Snippets: []*snippet.Snippet{sn}}).Patch("first-start.cfg", first, patch.ApplyOptions{})
	assert.NoError(t, err, "Ray's first start takes the snippet")
}
