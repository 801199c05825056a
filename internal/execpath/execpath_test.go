package execpath

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLookPath(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	prog := func(dir, name string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte("#!/bin/sh\n"), mode))
		return p
	}
	prog(a, "tool", 0o644) // not executable: passed over
	want := prog(b, "tool", 0o755)
	first := prog(a, "other", 0o755)
	second := prog(b, "other", 0o755)
	require.NoError(t, os.Mkdir(filepath.Join(a, "dir"), 0o755))

	for _, tt := range []struct {
		name, prog, list string
		skip             func(string) bool
		want, err        string
	}{
		{name: "first executable on the list", prog: "tool", list: a + ":" + b, want: want},
		{name: "order of the list", prog: "other", list: a + ":" + b, want: first},
		{name: "skip", prog: "other", list: a + ":" + b, skip: func(p string) bool { return p == first }, want: second},
		{name: "a path is taken as it is", prog: want, list: "", want: want},
		{name: "a directory is no program", prog: "dir", list: a, err: "dir: not found on PATH"},
		{name: "missing", prog: "nope", list: a + ":" + b, err: "nope: not found on PATH"},
		{name: "a path that is not executable", prog: filepath.Join(a, "tool"), list: "", err: "is not an executable file"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := LookPath(tt.prog, tt.list, tt.skip)
			if tt.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}
