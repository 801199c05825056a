package hardening

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const goodSnippet = "[[edit]]\nsection = \"defaults\"\nset = [\"timeout client 30s\"]\n"

const miniConfig = "global\n    maxconn 100\ndefaults\n    mode http\n    timeout connect 1s\n    timeout client 1s\n    timeout server 1s\nfrontend f\n    bind 127.0.0.1:65000\n"

// elf returns the first n bytes of the serve-launch binary: real binary
// garbage, NUL bytes included.
func elf(t *testing.T, n int) []byte {
	t.Helper()
	b, err := os.ReadFile(bins.Launcher())
	require.NoError(t, err)
	return b[:n]
}

// sparse creates a file of size bytes that takes no disk space.
func sparse(t *testing.T, path string, prefix string, size int64) {
	t.Helper()
	f, err := os.Create(path)
	require.NoError(t, err)
	_, err = f.WriteString(prefix)
	require.NoError(t, err)
	require.NoError(t, f.Truncate(size))
	require.NoError(t, f.Close())
}

// TestHugeAndBinaryInputs feeds inputs too large or too binary for a txtar
// file to the CLI and the shim: each fails fast with the file named (and
// the line where there is one), except a 10 MB line, which is handled.
func TestHugeAndBinaryInputs(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, data, 0o644))
		return name
	}
	write("ok.d/10-t.toml", []byte(goodSnippet))
	write("mini.cfg", []byte(miniConfig))
	tenMB := strings.Repeat("x", 10<<20)
	write("long-comment.cfg", []byte(strings.Replace(miniConfig, "    maxconn 100\n", "    maxconn 100\n    # "+tenMB+"\n", 1)))
	write("long-directive.cfg", []byte(strings.Replace(miniConfig, "    maxconn 100\n", "    maxconn 100\n    log-tag "+tenMB+"\n", 1)))
	write("long-quote.cfg", []byte(strings.Replace(miniConfig, "    maxconn 100\n", "    maxconn 100\n    log-tag \""+tenMB+"\n", 1)))
	sparse(t, filepath.Join(dir, "huge.cfg"), miniConfig, 64<<20+1)
	write("binary.cfg", elf(t, 64<<10))
	sparse(t, filepath.Join(dir, "huge.env"), "RAY_SERVE_HAPROXY_MAXCONN=2000\n", 1<<20+1)
	write("longline.env", []byte("RAY_SERVE_HAPROXY_SOCKET_PATH=/"+strings.Repeat("a", 40<<10)+"\n"))
	write("binary.env", elf(t, 4<<10))
	write("huge.d/10-huge.toml", []byte(goodSnippet+"# "+strings.Repeat("x", 1<<20)+"\n"))
	write("binary.d/10-bin.toml", elf(t, 4<<10))
	write("longline.d/10-long.toml", []byte("[[edit]]\nsection = \"defaults\"\nset = [\"log-tag "+strings.Repeat("x", 100<<10)+"\"]\n"))
	for _, d := range []string{"ok.d", "huge.d", "binary.d", "longline.d"} {
		require.NoError(t, os.Chmod(filepath.Join(dir, d), 0o755))
	}
	// The shim, by the name Ray runs.
	shimDir := t.TempDir()
	shim := filepath.Join(shimDir, "haproxy")
	require.NoError(t, os.Symlink(bins.Shim(), shim))
	shimEnv := []string{"SERVE_LAUNCH_STATE_DIR=" + filepath.Join(dir, "state"), "SERVE_LAUNCH_OVERRIDES=" + filepath.Join(dir, "ok.d")}

	tests := []struct {
		name  string
		shim  bool
		args  []string
		ok    bool
		want  string // in stderr
		bound time.Duration
	}{
		{name: "10 MB comment line", args: []string{"render", "--config", "long-comment.cfg", "--overrides", "ok.d"}, ok: true},
		{name: "10 MB directive line", args: []string{"render", "--config", "long-directive.cfg", "--overrides", "ok.d"}, ok: true},
		{name: "10 MB line with an unterminated quote", args: []string{"render", "--config", "long-quote.cfg", "--overrides", "ok.d"},
			want: "serve-launch: error: long-quote.cfg:3:13: unterminated double quote"},
		{name: "config over 64 MiB", args: []string{"render", "--config", "huge.cfg", "--overrides", "ok.d"},
			want: "serve-launch: error: huge.cfg: config is larger than the limit of 67108864 bytes"},
		{name: "binary config", args: []string{"render", "--config", "binary.cfg", "--overrides", "ok.d"},
			want: "serve-launch: error: binary.cfg:1:8: NUL byte: this is not a text haproxy config (a binary file?)"},
		{name: "binary config to check", args: []string{"check", "--config", "binary.cfg", "--overrides", "ok.d"},
			want: "serve-launch: error: binary.cfg:1:8: NUL byte"},
		{name: "shim: binary config", shim: true, args: []string{"-c", "-f", "binary.cfg"},
			want: "serve-launch: error: haproxy shim: binary.cfg:1:8: NUL byte"},
		{name: "shim: config over 64 MiB", shim: true, args: []string{"-c", "-f", "huge.cfg"},
			want: "serve-launch: error: haproxy shim: haproxy config huge.cfg is larger than the limit of 67108864 bytes"},
		{name: "shim: 10 MB line passes to haproxy -c", shim: true, args: []string{"-c", "-f", "long-directive.cfg"}, ok: true},
		{name: "env file over 1 MiB", args: []string{"env", "--env-file", "huge.env"},
			want: "serve-launch: error: huge.env: env file is larger than the limit of 1048576 bytes"},
		{name: "env line over 32 KiB", args: []string{"env", "--env-file", "longline.env"},
			want: "serve-launch: error: longline.env:1: line of 40991 bytes is longer than the limit of 32768"},
		{name: "binary env file", args: []string{"env", "--env-file", "binary.env"},
			want: "serve-launch: error: binary.env:1: not an env line"},
		{name: "snippet over 1 MiB", args: []string{"check", "--overrides", "huge.d"},
			want: "serve-launch: error: 10-huge.toml: snippet is 1048638 bytes, more than the limit of 1048576"},
		{name: "binary snippet", args: []string{"check", "--overrides", "binary.d"},
			want: "serve-launch: error: 10-bin.toml:1:"},
		{name: "snippet line over 16 KiB", args: []string{"check", "--overrides", "longline.d"},
			want: "serve-launch: error: 10-long.toml:3: line of 102408 bytes is longer than the limit of 16384"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r result
			if tt.shim {
				r = runBin(t, shim, dir, 30*time.Second, shimEnv, tt.args...)
			} else {
				r = serveLaunch(t, dir, 30*time.Second, nil, tt.args...)
			}
			// Generous for a loaded 2-core machine; typically well under 2 s.
			assert.Less(t, r.took, 15*time.Second, "took %s", r.took)
			if tt.ok {
				require.Equal(t, 0, r.code, "stderr: %.2000s", r.stderr)
				return
			}
			assert.NotEqual(t, 0, r.code)
			assert.Contains(t, r.stderr, tt.want)
			assert.Less(t, len(r.stderr), 64<<10, "the error does not echo the huge input")
		})
	}
}
