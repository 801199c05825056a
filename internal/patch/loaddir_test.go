package patch

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

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
					_, err := LoadDir(dir, LoadOptions{InsecureOverrides: insecure})
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
	require.NoError(t, f.Truncate(MaxSnippetSize+1))
	require.NoError(t, f.Close())
	_, err = LoadDir(dir, LoadOptions{})
	require.Error(t, err)
	assert.Equal(t, "10-big.toml: snippet is 1048577 bytes, more than the limit of 1048576", err.Error())
}
