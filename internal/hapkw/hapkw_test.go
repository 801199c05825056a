package hapkw

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/serve-launch/serve-launch/internal/patch/config"
)

func v(s string) Version {
	ver, err := ParseVersion(s)
	if err != nil {
		panic(err)
	}
	return ver
}

// TestTable reads the whole generated table: every line parses, the
// manuals are the LTS branches from 2.6 to 3.2, and the facts check relies
// on hold.
func TestTable(t *testing.T) {
	require.Equal(t, []Version{{2, 6}, {2, 8}, {3, 0}, {3, 2}}, Manuals())
	require.Equal(t, []string{"v2.6.0", "v2.8.0", "v3.0.0", "v3.2.0"}, ManualTags())
	tests := []struct {
		ctx            Context
		name           string
		added, removed string
	}{
		{Global, "stats-file", "3.0", ""},
		{Global, "tune.h2.fe.max-concurrent-streams", "2.8", ""},
		{Global, "maxconnrate", "2.6", ""},
		{Global, "stats socket", "2.6", ""},
		{Proxy, "timeout http-request", "2.6", ""},
		{Proxy, "option idle-close-on-response", "2.6", ""},
		{Proxy, "http-reuse", "2.6", ""},
		{Proxy, "bind-process", "2.6", "2.8"},
		{BindParam, "process", "2.6", "2.8"},
		{BindParam, "quic-cc-algo", "2.8", ""},
		{ServerParam, "maxconn", "2.6", ""},
		{ServerParam, "strict-maxconn", "3.2", ""},
		{HTTPRequest, "set-header", "2.6", ""},
		{HTTPRequest, "set-fc-mark", "3.0", ""},
		{HTTPRequest, "track-sc0", "2.6", ""},
		{HTTPResponse, "set-timeout", "3.0", ""},
		{HTTPAfterResponse, "set-header", "2.6", ""},
	}
	for _, tt := range tests {
		t.Run(string(tt.ctx)+" "+tt.name, func(t *testing.T) {
			k, ok := Lookup(tt.ctx, tt.name)
			require.True(t, ok, "not in the catalog")
			assert.Equal(t, v(tt.added), k.Added)
			if tt.removed == "" {
				assert.True(t, k.Removed.IsZero(), "removed in %s", k.Removed)
			} else {
				assert.Equal(t, v(tt.removed), k.Removed)
			}
		})
	}
	counts := map[Context]int{}
	for _, line := range strings.Split(strings.TrimSpace(table), "\n") {
		counts[Context(strings.Split(line, "\t")[0])]++
	}
	// Far fewer would mean the generator lost a part of a manual.
	for c, least := range map[Context]int{Global: 250, Proxy: 150, BindParam: 60, ServerParam: 90, HTTPRequest: 50, HTTPResponse: 30, HTTPAfterResponse: 15} {
		assert.GreaterOrEqual(t, counts[c], least, "%s keywords", c)
	}
}

func TestVersions(t *testing.T) {
	tests := []struct {
		in   string
		want Version
		err  string
	}{
		{in: "2.8", want: Version{2, 8}},
		{in: "2.8.20", want: Version{2, 8}},
		{in: " 3.0 ", want: Version{3, 0}},
		{in: "2", err: `haproxy version "2": want MAJOR.MINOR, such as 2.8`},
		{in: "2.x", err: `haproxy version "2.x": want MAJOR.MINOR, such as 2.8`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseVersion(tt.in)
			if tt.err != "" {
				require.EqualError(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
	got, err := BannerVersion("HAProxy version 2.6.12-1+deb12u4 2026/10/17 - https://haproxy.org/\nStatus: ...\n")
	require.NoError(t, err)
	assert.Equal(t, Version{2, 6}, got)
	_, err = BannerVersion("nginx version: nginx/1.22.1\n")
	require.EqualError(t, err, `haproxy -v does not say its version: "nginx version: nginx/1.22.1"`)

	assert.True(t, Version{2, 6}.Less(Version{2, 8}))
	assert.True(t, Version{2, 8}.Less(Version{3, 0}))
	assert.False(t, Version{3, 0}.Less(Version{3, 0}))
	assert.Equal(t, Version{2, 8}, Ray())
	require.NoError(t, Target(Ray()))
	require.EqualError(t, Target(Version{2, 9}), "haproxy version 2.9: the keyword catalog knows HAProxy 2.6, 2.8, 3.0, 3.2 (the manuals it was built from)")
}

func TestUses(t *testing.T) {
	names := func(ks []Keyword) []string {
		var out []string
		for _, k := range ks {
			out = append(out, string(k.Context)+":"+k.Name)
		}
		return out
	}
	tests := []struct {
		kind, line string
		want       []string
	}{
		{"global", "stats-file /tmp/haproxy-serve/stats.dat", []string{"global:stats-file"}},
		{"global", "stats socket /tmp/a.sock mode 600 level admin", []string{"global:stats socket"}},
		{"global", "no-such-keyword 1", nil},
		{"defaults", "timeout http-request 30s", []string{"proxy:timeout http-request"}},
		{"defaults", "no option http-keep-alive", []string{"proxy:option http-keep-alive"}},
		{"backend", "option httpchk GET /health", []string{"proxy:option httpchk"}},
		{"frontend", "http-request set-fc-mark 3", []string{"proxy:http-request", "http-request:set-fc-mark"}},
		{"frontend", "http-request sc-inc-gpc0(0) if { src 1.2.3.4 }", []string{"proxy:http-request", "http-request:sc-inc-gpc0"}},
		{"backend", "http-response set-timeout server 5s", []string{"proxy:http-response", "http-response:set-timeout"}},
		{"backend", "server s1 127.0.0.1:80 check strict-maxconn maxconn 32", []string{"proxy:server", "server:check", "server:strict-maxconn", "server:maxconn"}},
		{"backend", "default-server maxconn 32", []string{"proxy:default-server", "server:maxconn"}},
		{"backend", "server-template r 1-3 127.0.0.1:80 check", []string{"proxy:server-template", "server:check"}},
		{"frontend", "bind :443 quic-cc-algo cubic", []string{"proxy:bind", "bind:quic-cc-algo"}},
		{"peers", "peer a 127.0.0.1:1024", nil},
	}
	for _, tt := range tests {
		t.Run(tt.kind+" "+tt.line, func(t *testing.T) {
			assert.Equal(t, tt.want, names(Uses(tt.kind, strings.Fields(tt.line))))
		})
	}
}

// patched is a config in Ray's shape with lines "snippets" wrote: lines
// whose position names 10-x.toml.
func patched(t *testing.T, lines map[string][]string) *config.File {
	t.Helper()
	f, err := config.Parse("ray.cfg", []byte("global\n    maxconn 100\ndefaults\n    mode http\nfrontend f\n    bind :8000\nbackend b\n    server s 127.0.0.1:80\n"))
	require.NoError(t, err)
	n := 0
	for _, s := range f.Sections {
		for _, text := range lines[s.Title()] {
			n++
			s.Body = append(s.Body, config.NewLine("    "+text+"\n", config.Position{File: "10-x.toml", Line: n}))
		}
	}
	return f
}

func TestCheck(t *testing.T) {
	f := patched(t, map[string][]string{
		"global":     {"stats-file /tmp/haproxy-serve/stats.dat", "tune.h2.fe.max-concurrent-streams 100"},
		"defaults":   {"timeout http-request 30s"},
		"frontend f": {"bind-process 1", "http-request set-fc-mark 3"},
		"backend b":  {"default-server maxconn 32 strict-maxconn"},
	})
	// Ray's own lines are not checked: add one Ray could never write.
	f.Sections[0].Body = append(f.Sections[0].Body, config.NewLine("    stats-file /x\n", config.Position{File: "ray.cfg", Line: 9}))
	strs := func(fs []Finding) []string {
		var out []string
		for _, fd := range fs {
			out = append(out, fd.String())
		}
		return out
	}
	tests := []struct {
		target string
		want   []string
	}{
		{"2.6", []string{
			"10-x.toml:1: stats-file needs HAProxy 3.0; the target is 2.6",
			"10-x.toml:2: tune.h2.fe.max-concurrent-streams needs HAProxy 2.8; the target is 2.6",
			"10-x.toml:5: http-request action set-fc-mark needs HAProxy 3.0; the target is 2.6",
			"10-x.toml:6: server parameter strict-maxconn needs HAProxy 3.2; the target is 2.6",
		}},
		{"2.8", []string{
			"10-x.toml:1: stats-file needs HAProxy 3.0; the target is 2.8",
			"10-x.toml:4: bind-process was removed in HAProxy 2.8; the target is 2.8",
			"10-x.toml:5: http-request action set-fc-mark needs HAProxy 3.0; the target is 2.8",
			"10-x.toml:6: server parameter strict-maxconn needs HAProxy 3.2; the target is 2.8",
		}},
		{"3.2", []string{
			"10-x.toml:4: bind-process was removed in HAProxy 2.8; the target is 3.2",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.target, func(t *testing.T) {
			assert.Equal(t, tt.want, strs(Check(f, v(tt.target))))
		})
	}
}

func TestExplain(t *testing.T) {
	f := patched(t, map[string][]string{
		"global": {"tune.h2.fe.max-concurrent-streams 100", "stats-file /x"},
	})
	// Lines: 1 global, 2 maxconn, 3 tune.h2..., 4 stats-file.
	k, ok := Explain(f, 3, v("2.6"), v("2.8"))
	require.True(t, ok)
	assert.Equal(t, "tune.h2.fe.max-concurrent-streams", k.Name)
	// 2.8 lacks stats-file too: nothing to explain by the version.
	_, ok = Explain(f, 4, v("2.6"), v("2.8"))
	assert.False(t, ok)
	_, ok = Explain(f, 2, v("2.6"), v("2.8"))
	assert.False(t, ok)
	_, ok = Explain(f, 1, v("2.6"), v("2.8"))
	assert.False(t, ok)
	_, ok = Explain(f, 99, v("2.6"), v("2.8"))
	assert.False(t, ok)
}
