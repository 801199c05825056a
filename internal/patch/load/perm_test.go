package load

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const okSnippet = "[[edit]]\nsection = \"global\"\nset = [\"maxconn 2000\"]\n"

// configMapLayout builds what a Kubernetes ConfigMap volume looks like:
// NAME -> ..data/NAME, ..data -> ..2024_01_01_00_00_00.1, files 0644 in
// 0755 directories, owned by root (here: by the test's user).
func configMapLayout(t *testing.T, dir string) {
	t.Helper()
	ts := filepath.Join(dir, "..2024_01_01_00_00_00.1")
	require.NoError(t, os.Mkdir(ts, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(ts, "10-x.toml"), []byte(okSnippet), 0o644))
	require.NoError(t, os.Symlink("..2024_01_01_00_00_00.1", filepath.Join(dir, "..data")))
	require.NoError(t, os.Symlink("..data/10-x.toml", filepath.Join(dir, "10-x.toml")))
}

func TestLoadDirPermissions(t *testing.T) {
	me := os.Geteuid()
	other := me + 4242
	tests := []struct {
		name string
		// setup fills dir (mode 0755) and returns the uid LoadDir is run as.
		setup    func(t *testing.T, dir string) int
		readOnly bool
		want     string // "" for success; "DIR" stands for the directory
	}{
		{
			name:  "owner-only files load",
			setup: func(t *testing.T, dir string) int { writeSnippet(t, dir, "10-x.toml", 0o644); return me },
		},
		{
			name: "group-writable directory",
			setup: func(t *testing.T, dir string) int {
				writeSnippet(t, dir, "10-x.toml", 0o644)
				require.NoError(t, os.Chmod(dir, 0o775))
				return me
			},
			want: "DIR: refusing the overrides directory: it is writable by group or others (mode 0775, owner uid ",
		},
		{
			name:  "other-writable file",
			setup: func(t *testing.T, dir string) int { writeSnippet(t, dir, "10-x.toml", 0o646); return me },
			want:  "DIR/10-x.toml: refusing the snippet: it is writable by group or others (mode 0646",
		},
		{
			name:  "fix named",
			setup: func(t *testing.T, dir string) int { writeSnippet(t, dir, "10-x.toml", 0o664); return me },
			want:  "fix: chmod go-w DIR/10-x.toml (or run with --insecure-overrides)",
		},
		{
			name: "file owned by another user",
			setup: func(t *testing.T, dir string) int {
				writeSnippet(t, dir, "10-x.toml", 0o644)
				if me == 0 {
					// As root: give the file away and load as root.
					require.NoError(t, os.Chown(filepath.Join(dir, "10-x.toml"), other, -1))
					return 0
				}
				// As a user: load as someone else, who does not own it.
				return other
			},
			want: "DIR/10-x.toml: refusing the snippet: it is owned by uid ",
		},
		{
			name:  "ConfigMap-like layout",
			setup: func(t *testing.T, dir string) int { configMapLayout(t, dir); return me },
		},
		{
			name: "ConfigMap mount root 0777 on a read-only mount",
			setup: func(t *testing.T, dir string) int {
				configMapLayout(t, dir)
				require.NoError(t, os.Chmod(dir, 0o777))
				return me
			},
			readOnly: true,
		},
		{
			name: "symlinked target in a group-writable directory",
			setup: func(t *testing.T, dir string) int {
				configMapLayout(t, dir)
				require.NoError(t, os.Chmod(filepath.Join(dir, "..2024_01_01_00_00_00.1"), 0o775))
				return me
			},
			want: "DIR/..2024_01_01_00_00_00.1: refusing the directory DIR/..2024_01_01_00_00_00.1 (the symlink DIR/10-x.toml leads through it): it is writable by group or others (mode 0775",
		},
		{
			name: "symlink to a writable file outside",
			setup: func(t *testing.T, dir string) int {
				outside := t.TempDir()
				writeSnippet(t, outside, "x.toml", 0o666)
				require.NoError(t, os.Symlink(filepath.Join(outside, "x.toml"), filepath.Join(dir, "10-x.toml")))
				return me
			},
			want: "x.toml: refusing the snippet ",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "overrides.d")
			require.NoError(t, os.Mkdir(dir, 0o755))
			uid := tt.setup(t, dir)
			opt := Options{UID: &uid, readOnly: func(string) bool { return tt.readOnly }}
			o, err := Dir(dir, opt)
			if tt.want == "" {
				require.NoError(t, err)
				assert.Len(t, o.Snippets, 1)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), strings.ReplaceAll(tt.want, "DIR", dir))
			// --insecure-overrides loads the same directory.
			opt.InsecureOverrides = true
			o, err = Dir(dir, opt)
			require.NoError(t, err)
			assert.Len(t, o.Snippets, 1)
		})
	}
}

// writeSnippet writes a valid snippet with exactly mode (no umask).
func writeSnippet(t *testing.T, dir, name string, mode os.FileMode) {
	t.Helper()
	p := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(p, []byte(okSnippet), 0o600))
	require.NoError(t, os.Chmod(p, mode))
}

func TestLoadDirIgnoresExamples(t *testing.T) {
	dir := t.TempDir()
	writeSnippet(t, dir, "10-x.toml", 0o644)
	writeSnippet(t, dir, "90-y.toml.example", 0o644)
	var warnings []string
	o, err := Dir(dir, Options{Warn: func(m string) { warnings = append(warnings, m) }})
	require.NoError(t, err)
	assert.Len(t, o.Snippets, 1)
	assert.Empty(t, warnings)
}

// TestLoadDirUnusableFiles: a snippet that cannot be read says why, naming
// the file once, and a dangling symlink names where it points (a deploy
// that retargeted or removed what the link named).
func TestLoadDirUnusableFiles(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, dir string)
		want  string
	}{
		{"dangling symlink", func(t *testing.T, dir string) {
			require.NoError(t, os.Symlink("/nonexistent/10-a.toml", filepath.Join(dir, "10-a.toml")))
		}, "10-a.toml: a symlink to /nonexistent/10-a.toml, which does not exist"},
		{"symlink loop", func(t *testing.T, dir string) {
			require.NoError(t, os.Symlink("20-b.toml", filepath.Join(dir, "10-a.toml")))
			require.NoError(t, os.Symlink("10-a.toml", filepath.Join(dir, "20-b.toml")))
		}, "10-a.toml: stat: too many levels of symbolic links"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			tt.setup(t, dir)
			_, err := Dir(dir, Options{})
			require.Error(t, err)
			assert.Contains(t, err.Error(), filepath.Join(dir, tt.want))
			assert.Equal(t, 1, strings.Count(err.Error(), "10-a.toml:"), "the path is named once: %s", err)
		})
	}
}
