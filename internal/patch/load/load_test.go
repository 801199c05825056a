package load

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/serve-launch/serve-launch/internal/patch"
	"github.com/serve-launch/serve-launch/internal/patch/snippet"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestLoadDirNonRegular: a snippet that is no regular file is refused
// without being read, with --insecure-overrides too: a FIFO with a writer
// or /dev/zero gives bytes for as long as one reads. A symlink to a regular
// file is fine (a ConfigMap mount).
func TestLoadDirNonRegular(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, dir string)
		want  string // "" for a directory that loads; DIR stands for it
	}{
		{
			name: "FIFO with a writer",
			setup: func(t *testing.T, dir string) {
				p := filepath.Join(dir, "10-a.toml")
				require.NoError(t, syscall.Mkfifo(p, 0o644))
				// Opened for reading and writing, it never blocks, and keeps
				// the FIFO readable: a writer that does not stop.
				w, err := os.OpenFile(p, os.O_RDWR, 0)
				require.NoError(t, err)
				t.Cleanup(func() { w.Close() })
				_, err = w.WriteString(okSnippet)
				require.NoError(t, err)
			},
			want: "DIR/10-a.toml: refusing the snippet: it is a FIFO (named pipe), not a regular file (or a symlink to one), and is not read",
		},
		{
			name: "symlink to /dev/zero",
			setup: func(t *testing.T, dir string) {
				require.NoError(t, os.Symlink("/dev/zero", filepath.Join(dir, "10-a.toml")))
			},
			want: "DIR/10-a.toml: refusing the snippet: it is a character device, not a regular file",
		},
		{
			name: "unix socket",
			setup: func(t *testing.T, dir string) {
				l, err := net.Listen("unix", filepath.Join(dir, "10-a.toml"))
				require.NoError(t, err)
				t.Cleanup(func() { l.Close() })
			},
			want: "DIR/10-a.toml: refusing the snippet: it is a socket, not a regular file",
		},
		{
			name: "symlink to a regular file",
			setup: func(t *testing.T, dir string) {
				writeSnippet(t, dir, "x", 0o644)
				require.NoError(t, os.Symlink("x", filepath.Join(dir, "10-a.toml")))
			},
		},
	}
	for _, tt := range tests {
		for _, insecure := range []bool{false, true} {
			name := tt.name
			if insecure {
				name += " with --insecure-overrides"
			}
			t.Run(name, func(t *testing.T) {
				dir := filepath.Join(t.TempDir(), "overrides.d")
				require.NoError(t, os.Mkdir(dir, 0o755))
				tt.setup(t, dir)
				// A generous safety net: the refusal comes without a read.
				ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
				defer cancel()
				done := make(chan error, 1)
				go func() {
					_, err := Dir(dir, Options{InsecureOverrides: insecure})
					done <- err
				}()
				select {
				case err := <-done:
					if tt.want == "" {
						require.NoError(t, err)
						return
					}
					require.Error(t, err)
					assert.Contains(t, err.Error(), strings.ReplaceAll(tt.want, "DIR", dir))
				case <-ctx.Done():
					t.Fatal("LoadDir read a file that is no regular file")
				}
			})
		}
	}
}

// TestLoadDirSize: a snippet over the limit is refused with its size and
// the limit, before it is read.
func TestLoadDirSize(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "overrides.d")
	require.NoError(t, os.Mkdir(dir, 0o755))
	f, err := os.Create(filepath.Join(dir, "10-big.toml"))
	require.NoError(t, err)
	require.NoError(t, f.Truncate(snippet.MaxSize+1))
	require.NoError(t, f.Close())
	_, err = Dir(dir, Options{})
	require.Error(t, err)
	assert.Equal(t, "10-big.toml: snippet is 1048577 bytes, more than the limit of 1048576", err.Error())
}

// TestLaterSnippetWins loads two snippets that set the same keys from a
// directory: they apply in byte order of the file name, so the later file's
// value is what the config ends up with, whatever order the directory lists.
func TestLaterSnippetWins(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600))
	}
	// Written in reverse so that creation order cannot be what decides.
	write("20-late.toml", "[[edit]]\nsection = \"defaults\"\nset = [\"timeout client 20s\"]\n"+
		"[[edit]]\nsection = \"global\"\nset = [\"maxconnrate 200\"]\n")
	write("10-early.toml", "[[edit]]\nsection = \"defaults\"\nset = [\"timeout client 10s\", \"timeout queue 10s\"]\n"+
		"[[edit]]\nsection = \"global\"\nset = [\"maxconnrate 100\"]\n")
	o, err := Dir(dir, Options{})
	require.NoError(t, err)
	require.Len(t, o.Snippets, 2)
	assert.Equal(t, "10-early.toml", o.Snippets[0].Name)

	out, err := o.Patch("ray-2.55.cfg", mustRead(t, "../testdata/ray-2.55.cfg"), patch.ApplyOptions{Getenv: noEnv})
	require.NoError(t, err)
	s := string(out)
	assert.Contains(t, s, "\n    timeout client 20s # serve-launch: 20-late.toml:3\n")
	assert.Contains(t, s, "\n    timeout queue 10s # serve-launch: 10-early.toml:3\n")
	assert.Contains(t, s, "\n    maxconnrate 200 # serve-launch: 20-late.toml:6\n")
	assert.NotContains(t, s, "timeout client 10s")
	assert.NotContains(t, s, "maxconnrate 100")
	assert.Equal(t, 1, strings.Count(s, "timeout client "), "one timeout client line, in place")

	// Swapping the names swaps the winner.
	require.NoError(t, os.Rename(filepath.Join(dir, "20-late.toml"), filepath.Join(dir, "05-late.toml")))
	o, err = Dir(dir, Options{})
	require.NoError(t, err)
	out, err = o.Patch("ray-2.55.cfg", mustRead(t, "../testdata/ray-2.55.cfg"), patch.ApplyOptions{Getenv: noEnv})
	require.NoError(t, err)
	assert.Contains(t, string(out), "\n    timeout client 10s # serve-launch: 10-early.toml:3\n")
	assert.Contains(t, string(out), "\n    maxconnrate 100 # serve-launch: 10-early.toml:6\n")
}

func noEnv(string) (string, bool) { return "", false }

func mustRead(t testing.TB, path string) []byte {
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	return data
}
