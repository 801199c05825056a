package perm

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCheckFile covers a file given on its own, as env files and the
// haproxy binary are: the file, the directory holding it, and what a
// symlink leads to.
func TestCheckFile(t *testing.T) {
	me := os.Geteuid()
	other := me + 4242
	write := func(t *testing.T, path string, mode os.FileMode) {
		t.Helper()
		require.NoError(t, os.WriteFile(path, []byte("RAY_SERVE_HAPROXY_MAXCONN=2000\n"), 0o600))
		require.NoError(t, os.Chmod(path, mode))
	}
	tests := []struct {
		name string
		// setup fills dir (mode 0755) and returns the path to check and the
		// uid to check it as.
		setup func(t *testing.T, dir string) (string, int)
		want  string // "" for success; DIR stands for the directory
	}{
		{
			name: "owner-only file",
			setup: func(t *testing.T, dir string) (string, int) {
				write(t, filepath.Join(dir, "serve.env"), 0o644)
				return filepath.Join(dir, "serve.env"), me
			},
		},
		{
			name: "world-writable file",
			setup: func(t *testing.T, dir string) (string, int) {
				write(t, filepath.Join(dir, "serve.env"), 0o666)
				return filepath.Join(dir, "serve.env"), me
			},
			want: "DIR/serve.env: refusing the env file: it is writable by group or others (mode 0666, owner uid ",
		},
		{
			name: "fix named",
			setup: func(t *testing.T, dir string) (string, int) {
				write(t, filepath.Join(dir, "serve.env"), 0o664)
				return filepath.Join(dir, "serve.env"), me
			},
			want: "fix: chmod go-w DIR/serve.env (or run with --x)",
		},
		{
			name: "owned by another user",
			setup: func(t *testing.T, dir string) (string, int) {
				write(t, filepath.Join(dir, "serve.env"), 0o644)
				if me == 0 {
					require.NoError(t, os.Chown(filepath.Join(dir, "serve.env"), other, -1))
					return filepath.Join(dir, "serve.env"), 0
				}
				return filepath.Join(dir, "serve.env"), other
			},
			want: "DIR/serve.env: refusing the env file: it is owned by uid ",
		},
		{
			name: "group-writable directory",
			setup: func(t *testing.T, dir string) (string, int) {
				write(t, filepath.Join(dir, "serve.env"), 0o644)
				require.NoError(t, os.Chmod(dir, 0o775))
				return filepath.Join(dir, "serve.env"), me
			},
			want: "DIR: refusing the directory of the env file DIR/serve.env: it is writable by group or others (mode 0775",
		},
		{
			name: "sticky world-writable directory, like /tmp",
			setup: func(t *testing.T, dir string) (string, int) {
				write(t, filepath.Join(dir, "serve.env"), 0o644)
				require.NoError(t, os.Chmod(dir, 0o777|os.ModeSticky))
				return filepath.Join(dir, "serve.env"), me
			},
		},
		{
			name: "symlink to a writable file",
			setup: func(t *testing.T, dir string) (string, int) {
				require.NoError(t, os.Mkdir(filepath.Join(dir, "real"), 0o755))
				write(t, filepath.Join(dir, "real", "serve.env"), 0o646)
				require.NoError(t, os.Symlink("real/serve.env", filepath.Join(dir, "serve.env")))
				return filepath.Join(dir, "serve.env"), me
			},
			want: "DIR/real/serve.env: refusing the env file DIR/real/serve.env (via the symlink DIR/serve.env): it is writable by group or others (mode 0646",
		},
		{
			name: "symlink into a writable directory",
			setup: func(t *testing.T, dir string) (string, int) {
				require.NoError(t, os.Mkdir(filepath.Join(dir, "real"), 0o755))
				write(t, filepath.Join(dir, "real", "serve.env"), 0o644)
				require.NoError(t, os.Chmod(filepath.Join(dir, "real"), 0o757))
				require.NoError(t, os.Symlink("real/serve.env", filepath.Join(dir, "serve.env")))
				return filepath.Join(dir, "serve.env"), me
			},
			want: "DIR/real: refusing the directory of the env file DIR/serve.env: it is writable by group or others (mode 0757",
		},
		{
			name: "missing file is the caller's to report",
			setup: func(t *testing.T, dir string) (string, int) {
				return filepath.Join(dir, "nope.env"), me
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base, err := filepath.EvalSymlinks(t.TempDir())
			require.NoError(t, err)
			dir := filepath.Join(base, "etc")
			require.NoError(t, os.Mkdir(dir, 0o755))
			path, uid := tt.setup(t, dir)
			c := New(&uid, "(or run with --x)")
			c.ReadOnly = func(string) bool { return false }
			p := c.CheckFile(path, "env file")
			if tt.want == "" {
				assert.Nil(t, p)
				return
			}
			require.NotNil(t, p)
			assert.Contains(t, p.Error(), strings.ReplaceAll(tt.want, "DIR", dir))
		})
	}
}

// TestCheckReadOnlyMount: on a read-only file system the mode bits give no
// one write access, so a 0777 ConfigMap mount passes.
func TestCheckReadOnlyMount(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "serve.env")
	require.NoError(t, os.WriteFile(path, nil, 0o600))
	require.NoError(t, os.Chmod(path, 0o666))
	me := os.Geteuid()
	c := New(&me, "")
	c.ReadOnly = func(string) bool { return true }
	assert.Nil(t, c.CheckFile(path, "env file"))
	c.ReadOnly = func(string) bool { return false }
	p := c.CheckFile(path, "env file")
	require.NotNil(t, p)
	assert.True(t, strings.HasSuffix(p.Msg, "fix: chmod go-w "+path), "no escape offered: %s", p.Msg)
}
