package envmap

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/serve-launch/serve-launch/internal/perm"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// bigLimit keeps the open-file check quiet in tests that are not about it.
const bigLimit = 1 << 20

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(path, []byte(content), 0o644))
	return path
}

func TestPrecedence(t *testing.T) {
	const key = "RAY_SERVE_HAPROXY_MAXCONN"
	tests := []struct {
		name        string
		files       []string // contents, written as a.env, b.env, ...
		environ     []string
		fileWins    bool
		wantValue   string
		wantSet     bool
		wantUnset   bool
		wantSource  string // with "FILE" for the file's path
		wantChild   []string
		wantNoChild bool // key absent from ChildEnviron
	}{
		{
			name:      "default",
			wantValue: "20000", wantSource: "default", wantNoChild: true,
		},
		{
			name:      "one file",
			files:     []string{"# comment\n\nRAY_SERVE_HAPROXY_MAXCONN=2000\n"},
			wantValue: "2000", wantSet: true, wantSource: "a.env:3",
			wantChild: []string{key + "=2000"},
		},
		{
			name:      "later file wins",
			files:     []string{key + "=2000\n", key + "=3000\n"},
			wantValue: "3000", wantSet: true, wantSource: "b.env:1",
			wantChild: []string{key + "=3000"},
		},
		{
			name:      "later line wins",
			files:     []string{key + "=2000\n" + key + "=2500\n"},
			wantValue: "2500", wantSet: true, wantSource: "a.env:2",
			wantChild: []string{key + "=2500"},
		},
		{
			name:      "environment wins over files",
			files:     []string{key + "=2000\n"},
			environ:   []string{key + "=4000"},
			wantValue: "4000", wantSet: true, wantSource: "environment",
			wantChild: []string{key + "=4000"},
		},
		{
			name:      "env file wins when asked",
			files:     []string{key + "=2000\n"},
			environ:   []string{key + "=4000"},
			fileWins:  true,
			wantValue: "2000", wantSet: true, wantSource: "a.env:1",
			wantChild: []string{key + "=2000"},
		},
		{
			name:      "environment alone",
			environ:   []string{key + "=4000"},
			wantValue: "4000", wantSet: true, wantSource: "environment",
			wantChild: []string{key + "=4000"},
		},
		{
			name:      "KEY= unsets an earlier file",
			files:     []string{key + "=2000\n", key + "=\n"},
			wantValue: "20000", wantUnset: true, wantSource: "b.env:1", wantNoChild: true,
		},
		{
			name:      "KEY= with env file wins removes it from the environment",
			files:     []string{"export " + key + "=''\n"},
			environ:   []string{key + "=4000"},
			fileWins:  true,
			wantValue: "20000", wantUnset: true, wantSource: "a.env:1", wantNoChild: true,
		},
		{
			name:      "KEY= loses to the environment by default",
			files:     []string{key + "=\n"},
			environ:   []string{key + "=4000"},
			wantValue: "4000", wantSet: true, wantSource: "environment",
			wantChild: []string{key + "=4000"},
		},
		{
			name:      "empty value in the environment is unset",
			environ:   []string{key + "="},
			wantValue: "20000", wantUnset: true, wantSource: "environment", wantNoChild: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			var files []string
			for i, c := range tt.files {
				p := filepath.Join(dir, string(rune('a'+i))+".env")
				require.NoError(t, os.WriteFile(p, []byte(c), 0o644))
				files = append(files, p)
			}
			env, err := Load(Options{EnvFiles: files, Environ: tt.environ, EnvFileWins: tt.fileWins, NoFileLimit: bigLimit})
			require.NoError(t, err)
			s, ok := env.Setting(key)
			require.True(t, ok)
			assert.Equal(t, tt.wantValue, s.Value)
			assert.Equal(t, tt.wantSet, s.Set, "Set")
			assert.Equal(t, tt.wantUnset, s.Unset, "Unset")
			assert.Equal(t, tt.wantSource, strings.ReplaceAll(s.Source.String(), dir+"/", ""))
			got, ok := env.Get(key)
			assert.True(t, ok)
			assert.Equal(t, tt.wantValue, got)

			child := env.ChildEnviron(tt.environ)
			var mine []string
			for _, kv := range child {
				if strings.HasPrefix(kv, key+"=") {
					mine = append(mine, kv)
				}
			}
			if tt.wantNoChild {
				assert.Empty(t, mine)
			} else {
				assert.Equal(t, tt.wantChild, mine)
			}
		})
	}
}

func TestChildEnvironKeepsOthers(t *testing.T) {
	f := writeFile(t, "a.env", "CUDA_VISIBLE_DEVICES=0,1\nRAY_SERVE_HAPROXY_NBTHREAD=2\nHOME=\n")
	base := []string{"PATH=/usr/bin", "HOME=/root", "RAY_SERVE_HAPROXY_NBTHREAD=8"}
	env, err := Load(Options{EnvFiles: []string{f}, Environ: base, EnvFileWins: true, NoFileLimit: bigLimit})
	require.NoError(t, err)
	assert.Equal(t, []string{"PATH=/usr/bin", "RAY_SERVE_HAPROXY_NBTHREAD=2", "CUDA_VISIBLE_DEVICES=0,1"}, env.ChildEnviron(base))
}

func TestGetOmitted(t *testing.T) {
	env, err := Load(Options{NoFileLimit: bigLimit})
	require.NoError(t, err)
	_, ok := env.Get("RAY_SERVE_HAPROXY_TIMEOUT_SERVER_S")
	assert.False(t, ok, "unset and omitted")
	v, ok := env.Get("RAY_SERVE_HAPROXY_BINARY_PATH")
	assert.True(t, ok)
	assert.Equal(t, "haproxy", v)
	_, ok = env.Get("NOT_A_VARIABLE")
	assert.False(t, ok)
}

// TestByteOrderMark checks that a UTF-8 byte order mark at the start of an
// env file is skipped, as docker --env-file does, and the lines keep their
// numbers.
func TestByteOrderMark(t *testing.T) {
	f := writeFile(t, "bom.env", "\xef\xbb\xbfRAY_SERVE_HAPROXY_NBTHREAD=2\nRAY_SERVE_HAPROXY_MAXCONN=lots\n")
	env, err := Load(Options{EnvFiles: []string{f}, NoFileLimit: bigLimit})
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "not an env line")
	assert.Contains(t, err.Error(), f+":2: RAY_SERVE_HAPROXY_MAXCONN=lots")
	got, _ := env.Get("RAY_SERVE_HAPROXY_NBTHREAD")
	assert.Equal(t, "2", got)
}

func TestQuotingFollowsEnvparse(t *testing.T) {
	f := writeFile(t, "a.env", strings.Join([]string{
		`RAY_SERVE_HAPROXY_CONFIG_FILE_LOC="/srv/my dir/haproxy.cfg"`,
		`RAY_SERVE_HAPROXY_SOCKET_PATH='/run/a#b.sock'`,
		`RAY_SERVE_HAPROXY_BALANCE_ALGORITHM = roundrobin # trailing comment`,
		`export RAY_SERVE_HAPROXY_NBTHREAD=2`,
	}, "\n"))
	env, err := Load(Options{EnvFiles: []string{f}, NoFileLimit: bigLimit})
	require.NoError(t, err)
	for name, want := range map[string]string{
		"RAY_SERVE_HAPROXY_CONFIG_FILE_LOC":   "/srv/my dir/haproxy.cfg",
		"RAY_SERVE_HAPROXY_SOCKET_PATH":       "/run/a#b.sock",
		"RAY_SERVE_HAPROXY_BALANCE_ALGORITHM": "roundrobin",
		"RAY_SERVE_HAPROXY_NBTHREAD":          "2",
	} {
		got, _ := env.Get(name)
		assert.Equal(t, want, got, name)
	}
}

func TestDiagnostics(t *testing.T) {
	tests := []struct {
		name     string
		file     string
		environ  []string
		limit    uint64
		release  Release
		strict   bool
		errors   []string // substrings, "F" standing for the file path
		warnings []string
	}{
		{
			name:     "typo suggests the closest name",
			file:     "RAY_SERVE_HAPROXY_MAXCON=2000\n",
			warnings: []string{"F:1: unknown variable RAY_SERVE_HAPROXY_MAXCON (did you mean RAY_SERVE_HAPROXY_MAXCONN?)"},
		},
		{
			name:     "typo outside the HAPROXY prefix",
			environ:  []string{"RAY_SERVE_ENABLE_HAPROXY=1"},
			warnings: []string{"environment: unknown variable RAY_SERVE_ENABLE_HAPROXY (did you mean RAY_SERVE_ENABLE_HA_PROXY?)"},
		},
		{
			name:     "lower case name",
			file:     "ray_serve_haproxy_nbthread=2\n",
			warnings: []string{"F:1: unknown variable ray_serve_haproxy_nbthread (did you mean RAY_SERVE_HAPROXY_NBTHREAD? names are case-sensitive)"},
		},
		{
			name:     "far from every name",
			file:     "RAY_SERVE_HAPROXY_SOMETHING_ELSE_ENTIRELY=1\n",
			warnings: []string{"F:1: unknown variable RAY_SERVE_HAPROXY_SOMETHING_ELSE_ENTIRELY: Ray ignores it"},
		},
		{
			name:    "unrelated names and known families are quiet",
			file:    "CUDA_VISIBLE_DEVICES=0\nHOME=\nRAY_SERVE_HAPROXY_INGRESS_RETRY_ON=conn-failure\nRAY_SERVE_DEFAULT_HTTP_PORT=8000\n",
			environ: []string{"PATH=/bin", "LD_PRELOAD=/x.so", "RAY_SERVE_HAPROXY_H2_SOMETHING_NEW=1"},
			release: ReleaseMaster,
		},
		{
			name:     "a family variable the target ignores",
			file:     "RAY_SERVE_HAPROXY_INGRESS_RETRY_ON=conn-failure\n",
			environ:  []string{"RAY_SERVE_HAPROXY_H2_SOMETHING_NEW=1"},
			warnings: []string{"F:1: RAY_SERVE_HAPROXY_INGRESS_RETRY_ON is read only by Ray master-may and later; Ray 2.55 ignores it (--ray-version names the Ray you run)", "environment: RAY_SERVE_HAPROXY_H2_SOMETHING_NEW is read only by Ray master-may and later; Ray 2.55 ignores it"},
		},
		{
			name:     "a setting the target ignores",
			file:     "RAY_SERVE_HAPROXY_RETRY_ON=conn-failure\nRAY_SERVE_HAPROXY_SYSLOG_PORT=514\n",
			warnings: []string{"F:1: RAY_SERVE_HAPROXY_RETRY_ON is read only by Ray master; Ray 2.55 ignores it (--ray-version names the Ray you run)"},
		},
		{
			name:     "a setting master ignores",
			file:     "RAY_SERVE_HAPROXY_RETRY_ON=conn-failure\nRAY_SERVE_HAPROXY_SYSLOG_PORT=514\n",
			release:  ReleaseMasterJune,
			warnings: []string{"F:2: RAY_SERVE_HAPROXY_SYSLOG_PORT is read only by Ray v1 and 2.55; Ray master ignores it (--ray-version names the Ray you run)"},
		},
		{
			name:   "strict: unknown names and ignored settings are errors",
			file:   "RAY_SERVE_HAPROXY_MAXCON=2000\nRAY_SERVE_HAPROXY_RETRY_ON=conn-failure\nRAY_SERVE_HAPROXY_INGRESS_RETRIES=2\n",
			strict: true,
			errors: []string{
				"F:1: unknown variable RAY_SERVE_HAPROXY_MAXCON (did you mean RAY_SERVE_HAPROXY_MAXCONN?)",
				"F:2: RAY_SERVE_HAPROXY_RETRY_ON is read only by Ray master; Ray 2.55 ignores it",
				"F:3: RAY_SERVE_HAPROXY_INGRESS_RETRIES is read only by Ray master-may and later; Ray 2.55 ignores it",
			},
		},
		{
			name:     "strict leaves the machine's limits warnings",
			file:     "RAY_SERVE_HAPROXY_MAXCONN=130000\n",
			limit:    20000,
			strict:   true,
			warnings: []string{`F:1: RAY_SERVE_HAPROXY_MAXCONN=130000 needs about 260042 open files`},
		},
		{
			name: "env files are for Ray's settings",
			file: "PATH=/bin\nLD_PRELOAD=/tmp/x/evil.so\nLD_LIBRARY_PATH=/tmp/x\n",
			errors: []string{
				"F:1: PATH is not a setting of Ray or serve-launch: env files are for Ray's settings (RAY_*, SERVE_*, and the accelerator lists such as CUDA_VISIBLE_DEVICES); set PATH in the environment serve-launch runs in if you mean it",
				"F:2: LD_PRELOAD is not a setting of Ray or serve-launch",
				"F:3: LD_LIBRARY_PATH is not a setting of Ray or serve-launch",
			},
		},
		{
			name:   "a line break Ray would write into haproxy.cfg",
			file:   "RAY_SERVE_HAPROXY_BALANCE_ALGORITHM=\"roundrobin\\n    timeout server 1ms\"\n",
			errors: []string{"F:1: RAY_SERVE_HAPROXY_BALANCE_ALGORITHM holds the control character U+000A, a line break: Ray writes RAY_SERVE_* values into haproxy.cfg unquoted, where it would start a directive of its own; remove it"},
		},
		{
			name:    "a line break from the environment",
			environ: []string{"RAY_SERVE_HAPROXY_SOCKET_PATH=/tmp/a.sock\n    stats socket /tmp/b.sock level admin"},
			errors:  []string{"environment: RAY_SERVE_HAPROXY_SOCKET_PATH holds the control character U+000A, a line break"},
		},
		{
			name:    "a control character in a variable of a family",
			environ: []string{"RAY_SERVE_HAPROXY_H2_MAX_FRAME_SIZE=16384\x01"},
			release: ReleaseMaster,
			errors:  []string{"environment: RAY_SERVE_HAPROXY_H2_MAX_FRAME_SIZE holds the control character U+0001: Ray writes"},
		},
		{
			name:   "a tab",
			file:   "RAY_SERVE_HAPROXY_RETRY_ON=\"conn-failure\\t503\"\n",
			errors: []string{"F:1: RAY_SERVE_HAPROXY_RETRY_ON holds the control character U+0009, a tab"},
		},
		{
			name:   "wrong type names file and line",
			file:   "# tuned\nRAY_SERVE_HAPROXY_MAXCONN=lots\n",
			errors: []string{"F:2: RAY_SERVE_HAPROXY_MAXCONN=lots: expected a positive integer, for example RAY_SERVE_HAPROXY_MAXCONN=2000"},
		},
		{
			name:    "wrong type from the environment",
			environ: []string{"RAY_SERVE_HAPROXY_HEALTH_CHECK_INTER=5 seconds"},
			errors:  []string{"environment: RAY_SERVE_HAPROXY_HEALTH_CHECK_INTER=5 seconds: expected an HAProxy time such as 250ms, 5s or 1m"},
		},
		{
			name:   "every error is reported",
			file:   "RAY_SERVE_HAPROXY_METRICS_PORT=70000\nRAY_SERVE_ENABLE_HA_PROXY=true\n",
			errors: []string{"F:1: RAY_SERVE_HAPROXY_METRICS_PORT=70000: expected a port from 1 to 65535", `F:2: RAY_SERVE_ENABLE_HA_PROXY=true: expected "1" or "0"`},
		},
		{
			name:   "bad line",
			file:   "RAY_SERVE_HAPROXY_MAXCONN\n",
			errors: []string{"F:1: not an env line: missing ="},
		},
		{
			name:   "empty port range",
			file:   "RAY_SERVE_DIRECT_INGRESS_MIN_HTTP_PORT=32000\n",
			errors: []string{"F:1: replica port range is empty: RAY_SERVE_DIRECT_INGRESS_MIN_HTTP_PORT=32000 is above Ray's default RAY_SERVE_DIRECT_INGRESS_MAX_HTTP_PORT=31000"},
		},
		{
			name:     "overlapping port ranges",
			file:     "RAY_SERVE_DIRECT_INGRESS_MIN_GRPC_PORT=30500\n",
			warnings: []string{"F:1: replica HTTP ports 30000-31000 and gRPC ports 30500-41000 overlap"},
		},
		{
			name:     "metrics port among replica ports",
			file:     "RAY_SERVE_HAPROXY_METRICS_PORT=30001\n",
			warnings: []string{"F:1: RAY_SERVE_HAPROXY_METRICS_PORT=30001 is inside the replica HTTP port range 30000-31000"},
		},
		{
			name:     "same port twice",
			file:     "RAY_SERVE_HAPROXY_STATS_PORT=9101\n",
			release:  ReleaseMaster,
			warnings: []string{"F:1: Ray's default RAY_SERVE_HAPROXY_METRICS_PORT=9101 and RAY_SERVE_HAPROXY_STATS_PORT=9101 bind the same port"},
		},
		{
			// 2.55 binds the stats page on 8404 whatever the variable says.
			name:     "a port the target does not read binds nothing",
			file:     "RAY_SERVE_HAPROXY_STATS_PORT=9101\n",
			warnings: []string{"F:1: RAY_SERVE_HAPROXY_STATS_PORT is read only by Ray master-may and later; Ray 2.55 ignores it"},
		},
		{
			name:     "maxconn above the open-file limit",
			file:     "RAY_SERVE_HAPROXY_MAXCONN=130000\n",
			limit:    20000,
			warnings: []string{`F:1: RAY_SERVE_HAPROXY_MAXCONN=130000 needs about 260042 open files (2 x maxconn + 42) but the hard limit here is 20000 (ulimit -Hn): haproxy would fail at every start ("Cannot raise FD limit to 260042, limit is 20000"); set RAY_SERVE_HAPROXY_MAXCONN to at most 9979, or raise the hard limit (LimitNOFILE= in a systemd unit, nofile in /etc/security/limits.conf)`},
		},
		{
			name:     "Ray's default maxconn on this kind of machine",
			limit:    20000,
			warnings: []string{`default: Ray's default RAY_SERVE_HAPROXY_MAXCONN=20000 needs about 40042 open files`},
		},
		{
			name:  "maxconn that fits",
			file:  "RAY_SERVE_HAPROXY_MAXCONN=2000\n",
			limit: 20000,
		},
		{
			name:     "socket path too long",
			file:     "RAY_SERVE_HAPROXY_SOCKET_PATH=/" + strings.Repeat("x", 120) + "\n",
			warnings: []string{"F:1: RAY_SERVE_HAPROXY_SOCKET_PATH is 121 bytes long; a unix socket path may have at most 107"},
		},
		{
			name:     "duplicate in one file",
			file:     "RAY_SERVE_HAPROXY_NBTHREAD=2\nRAY_SERVE_HAPROXY_NBTHREAD=3\n",
			warnings: []string{"F:2: RAY_SERVE_HAPROXY_NBTHREAD is also set at F:1; this later line wins"},
		},
		{
			name:     "missing binary",
			file:     "RAY_SERVE_HAPROXY_BINARY_PATH=/nonexistent/haproxy\n",
			warnings: []string{"F:1: RAY_SERVE_HAPROXY_BINARY_PATH=/nonexistent/haproxy: no such executable on this machine"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var files []string
			path := ""
			if tt.file != "" {
				path = writeFile(t, "serve.env", tt.file)
				files = append(files, path)
			}
			limit := tt.limit
			if limit == 0 {
				limit = bigLimit
			}
			env, err := Load(Options{EnvFiles: files, Environ: tt.environ, NoFileLimit: limit, Release: tt.release, Strict: tt.strict})
			require.NotNil(t, env)
			expand := func(ds []Diagnostic) string {
				var b strings.Builder
				for _, d := range ds {
					line := d.String()
					if path != "" {
						line = strings.ReplaceAll(line, path, "F")
					}
					b.WriteString(line + "\n")
				}
				return b.String()
			}
			if len(tt.errors) == 0 {
				assert.NoError(t, err)
			} else {
				var errs Errors
				require.True(t, errors.As(err, &errs), "want Errors, got %v", err)
				assert.Len(t, errs, len(tt.errors))
			}
			gotErrs := expand(env.Errors())
			for _, want := range tt.errors {
				assert.Contains(t, gotErrs, want)
			}
			gotWarns := expand(env.Warnings())
			for _, want := range tt.warnings {
				assert.Contains(t, gotWarns, want)
			}
			if len(tt.warnings) == 0 {
				assert.Empty(t, gotWarns)
			}
		})
	}
}

func TestMissingEnvFile(t *testing.T) {
	_, err := Load(Options{EnvFiles: []string{"/nonexistent/serve.env"}, NoFileLimit: bigLimit})
	require.Error(t, err)
	assert.Equal(t, "/nonexistent/serve.env: cannot read env file: no such file or directory", err.Error())
}

// TestEnvFileRoundTrip checks that the env file written from a load gives
// the same effective values when loaded alone.
func TestEnvFileRoundTrip(t *testing.T) {
	f := writeFile(t, "a.env", strings.Join([]string{
		"RAY_SERVE_HAPROXY_MAXCONN=2000",
		"RAY_SERVE_HAPROXY_NBTHREAD=4", // Ray's default: left out
		"RAY_SERVE_HAPROXY_TIMEOUT_SERVER_S=120",
		`RAY_SERVE_HAPROXY_CONFIG_FILE_LOC="/srv/it's here/haproxy.cfg"`,
		`RAY_SERVE_HAPROXY_SOCKET_PATH='/srv/a#c.sock'`,
		"RAY_SERVE_HAPROXY_BALANCE_ALGORITHM=url_param session",
		"RAY_SERVE_HAPROXY_HEALTH_CHECK_FASTINTER=",
		"UNRELATED=",
	}, "\n"))
	env, err := Load(Options{EnvFiles: []string{f}, Environ: []string{"RAY_SERVE_HAPROXY_TIMEOUT_CLIENT_S=60"}, NoFileLimit: bigLimit})
	require.NoError(t, err)
	var buf bytes.Buffer
	require.NoError(t, env.WriteEnvFile(&buf))
	assert.NotContains(t, buf.String(), "NBTHREAD")
	assert.NotContains(t, buf.String(), "UNRELATED")

	g := writeFile(t, "round.env", buf.String())
	again, err := Load(Options{EnvFiles: []string{g}, NoFileLimit: bigLimit})
	require.NoError(t, err, buf.String())
	for _, s := range env.Settings() {
		want, wantOK := env.Get(s.Var.Name)
		got, gotOK := again.Get(s.Var.Name)
		assert.Equal(t, wantOK, gotOK, s.Var.Name)
		assert.Equal(t, want, got, s.Var.Name)
	}
	var buf2 bytes.Buffer
	require.NoError(t, again.WriteEnvFile(&buf2))
	assert.Equal(t, buf.String(), buf2.String(), "writing the reloaded file again changes it")
}

func TestEditDistance(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"", "", 0},
		{"abc", "", 3},
		{"MAXCON", "MAXCONN", 1},
		{"kitten", "sitting", 3},
	}
	for _, tt := range tests {
		t.Run(tt.a+"-"+tt.b, func(t *testing.T) {
			assert.Equal(t, tt.want, editDistance(tt.a, tt.b))
		})
	}
}

// TestErrorsInInputOrder: bad values are reported file by file and line by
// line, not in the order of the variable table, so a user fixing them goes
// down the file once.
func TestErrorsInInputOrder(t *testing.T) {
	f := writeFile(t, "e.env", "RAY_SERVE_HAPROXY_HEALTH_CHECK_INTER=0\n"+
		"RAY_SERVE_HAPROXY_METRICS_PORT=99999\n"+
		"RAY_SERVE_HAPROXY_MAXCONN=lots\n"+
		"RAY_SERVE_HAPROXY_TIMEOUT_CLIENT_S=-1\n")
	g := writeFile(t, "g.env", "RAY_SERVE_HAPROXY_NBTHREAD=many\n")
	env, err := Load(Options{EnvFiles: []string{g, f}, NoFileLimit: bigLimit})
	require.Error(t, err)
	var lines []string
	for _, d := range env.Errors() {
		lines = append(lines, d.Source.String())
	}
	assert.Equal(t, []string{g + ":1", f + ":1", f + ":2", f + ":3", f + ":4"}, lines)
}

// TestEnvFilePermissions: an env file gets the ownership and mode checks
// snippets get (whoever can write it chooses the program Ray runs), with
// the path, mode, owner and fix named; InsecureFiles skips them.
func TestEnvFilePermissions(t *testing.T) {
	tests := []struct {
		name     string
		mode     os.FileMode
		escape   string
		insecure bool
		want     string // "" when the file loads; F stands for its path
	}{
		{name: "owner-only", mode: 0o644},
		{name: "world-writable", mode: 0o666,
			want: "F: refusing the env file: it is writable by group or others (mode 0666, owner uid "},
		{name: "fix named", mode: 0o664,
			want: "and whoever can write it controls haproxy; fix: chmod go-w F"},
		{name: "escape named where the command has one", mode: 0o666, escape: "(or run with --insecure-overrides)",
			want: "fix: chmod go-w F (or run with --insecure-overrides)"},
		{name: "insecure", mode: 0o666, insecure: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, "serve.env", "RAY_SERVE_HAPROXY_BINARY_PATH=/tmp/x/evil.sh\n")
			require.NoError(t, os.Chmod(path, tt.mode))
			checker := perm.New(nil, tt.escape)
			checker.ReadOnly = func(string) bool { return false }
			env, err := Load(Options{EnvFiles: []string{path}, NoFileLimit: bigLimit, Perm: checker, InsecureFiles: tt.insecure})
			if tt.want == "" {
				for _, d := range env.Errors() {
					assert.NotContains(t, d.Message, "refusing")
				}
				got, _ := env.Get("RAY_SERVE_HAPROXY_BINARY_PATH")
				assert.Equal(t, "/tmp/x/evil.sh", got)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), strings.ReplaceAll(tt.want, "F", path))
			got, _ := env.Get("RAY_SERVE_HAPROXY_BINARY_PATH")
			assert.Equal(t, "haproxy", got, "nothing of a refused file is used")
		})
	}
}
