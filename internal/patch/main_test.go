package patch

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/serve-launch/serve-launch/internal/testing/testenv"
	"github.com/stretchr/testify/require"
)

// golden compares got with testdata/name, or writes it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	testenv.Golden(t, filepath.Join("testdata", name), got)
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
