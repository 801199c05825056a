package hardening

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestResourceBombs feeds the CLI the inputs of issue 17 that cost time or
// memory out of proportion to their size, each within the snippet size cap:
// a template that doubles a string, keys of 100,000 and 500,000 dotted
// parts, 13,445 edits, a FIFO with a writer and /dev/zero. Each is refused,
// naming the file (and line), by the budgets and bounds in the code. The
// time and memory bounds asserted are safety nets far above what the
// refusals take (well under a second and 64 MB; the report logs both).
func TestResourceBombs(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, data string) {
		p := filepath.Join(dir, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(data), 0o644))
	}
	write("ray.cfg", miniConfig)
	doubling := strings.Repeat(`{{ $a = printf "%s%s" $a $a }}`, 30)
	write("bomb.d/10-bomb.toml", "[[edit]]\nsection = \"global\"\nset = ['maxconnrate {{ $a := \"x\" }}"+doubling+"{{ len $a }}']\n")
	write("bomb2.d/10-bomb.toml", "[[edit]]\nsection = \"global\"\nset = ['maxconnrate {{ $a := \"x\" }}"+doubling+"{{ $a }}']\n")
	write("overflow.d/10-mul.toml", "[[edit]]\nsection = \"global\"\nset = [\"maxconnrate {{ mul 9223372036854775807 2 }}\"]\n")
	write("key100k.d/10-key.toml", "["+strings.TrimSuffix(strings.Repeat("a.", 100000), ".")+"]\n")
	write("key500k.d/10-key.toml", "["+strings.TrimSuffix(strings.Repeat("a.", 500000), ".")+"]\n")
	var edits strings.Builder
	for i := 0; i < 13445; i++ {
		fmt.Fprintf(&edits, "[[edit]]\nsection = \"defaults\"\nadd = [\"http-request set-header X-%05d 1\"]\n", i)
	}
	write("edits.d/10-edits.toml", edits.String())

	require.NoError(t, os.Mkdir(filepath.Join(dir, "fifo.d"), 0o755))
	fifo := filepath.Join(dir, "fifo.d", "10-fifo.toml")
	require.NoError(t, syscall.Mkfifo(fifo, 0o644))
	// Opened for reading and writing, the FIFO always has a writer and
	// never ends: the case that was read without bound.
	w, err := os.OpenFile(fifo, os.O_RDWR, 0)
	require.NoError(t, err)
	defer w.Close()
	_, err = w.WriteString(goodSnippet)
	require.NoError(t, err)

	require.NoError(t, os.Mkdir(filepath.Join(dir, "zero.d"), 0o755))
	require.NoError(t, os.Symlink("/dev/zero", filepath.Join(dir, "zero.d", "10-zero.toml")))

	tests := []struct {
		name string
		args []string
		want string // in stderr
	}{
		{name: "template doubling a string, 978 bytes", args: []string{"render", "--config", "ray.cfg", "--overrides", "bomb.d"},
			want: `serve-launch: error: 10-bomb.toml:3: template: function "len" is not available in snippets`},
		{name: "template doubling a string with printf only", args: []string{"render", "--config", "ray.cfg", "--overrides", "bomb2.d"},
			want: `in global: the line is longer than 16384 bytes`},
		{name: "mul overflowing", args: []string{"render", "--config", "ray.cfg", "--overrides", "overflow.d"},
			want: "serve-launch: error: 10-mul.toml:3: template \"maxconnrate {{ mul 9223372036854775807 2 }}\" in global: at <mul 9223372036854775807 2>: mul of 9223372036854775807 and 2 overflows a 64-bit integer"},
		{name: "key of 100,000 parts", args: []string{"check", "--overrides", "key100k.d"},
			want: "serve-launch: error: 10-key.toml:1: key is longer than any snippet key (more than 8 parts)"},
		{name: "key of 500,000 parts, 1 MB", args: []string{"check", "--overrides", "key500k.d"},
			want: "serve-launch: error: 10-key.toml:1: key is longer than any snippet key (more than 8 parts)"},
		{name: "13,445 edits", args: []string{"render", "--config", "ray.cfg", "--overrides", "edits.d"},
			want: "serve-launch: error: 10-edits.toml:3073: snippet has more than 512 tables; split it into several files"},
		{name: "FIFO with a writer", args: []string{"check", "--overrides", "fifo.d"},
			want: "fifo.d/10-fifo.toml: refusing the snippet: it is a FIFO (named pipe), not a regular file (or a symlink to one), and is not read"},
		{name: "FIFO with a writer, --insecure-overrides", args: []string{"check", "--overrides", "fifo.d", "--insecure-overrides"},
			want: "fifo.d/10-fifo.toml: refusing the snippet: it is a FIFO (named pipe)"},
		{name: "/dev/zero, --insecure-overrides", args: []string{"check", "--overrides", "zero.d", "--insecure-overrides"},
			want: "zero.d/10-zero.toml: refusing the snippet: it is a character device, not a regular file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := serveLaunch(t, dir, 60*time.Second, nil, tt.args...)
			t.Logf("refused in %s, peak RSS %d KiB", r.took, r.maxRSS>>10)
			assert.NotEqual(t, 0, r.code)
			assert.Contains(t, r.stderr, tt.want)
			assert.Empty(t, r.stdout)
			assert.Less(t, len(r.stderr), 16<<10, "the error does not echo the input")
			// Safety nets only: generous for a loaded 2-core machine.
			assert.Less(t, r.took, 15*time.Second)
			assert.Less(t, r.maxRSS, int64(256<<20))
		})
	}
}
