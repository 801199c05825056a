package patch

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// update rewrites golden files instead of comparing: go test ./... -update
var update = flag.Bool("update", false, "rewrite golden files")

// golden compares got with testdata/name, or writes it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, got, 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "missing golden file; run go test -update")
	assert.Equal(t, string(want), string(got), "golden %s differs; run go test -update after checking the change", path)
}

func mustRead(t testing.TB, path string) []byte {
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	return data
}

func testConfigs(t testing.TB) []string {
	paths, err := filepath.Glob("testdata/*.cfg")
	require.NoError(t, err)
	require.NotEmpty(t, paths)
	return paths
}
