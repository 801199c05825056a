package testenv

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// update is `go test ... -update`: the golden helpers rewrite what they
// compare instead of comparing. Every test binary that imports testenv has
// the flag.
var update = flag.Bool("update", false, "rewrite golden files and the generated sections of docs/reference.md instead of comparing")

// Golden compares got with the file at path, or writes it there with
// -update (making its directory).
func Golden(t testing.TB, path string, got []byte) {
	t.Helper()
	if *update {
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, got, 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "%s is missing: go test -update writes it", path)
	assert.Equal(t, string(want), string(got), "%s differs: if the change is meant, go test -update rewrites it", path)
}

// GoldenSection compares what stands between the markers begin and end in
// the file at path (a generated section of docs/reference.md) with want, or
// replaces it with want under -update.
func GoldenSection(t testing.TB, path, begin, end, want string) {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	s := string(data)
	i := strings.Index(s, begin)
	require.True(t, i >= 0, "%s lacks the marker %q", path, begin)
	j := strings.Index(s[i+len(begin):], end)
	require.True(t, j >= 0, "%s lacks the marker %q after %q", path, end, begin)
	j += i + len(begin)
	current := s[i+len(begin) : j]
	if *update {
		if current != want {
			require.NoError(t, os.WriteFile(path, []byte(s[:i+len(begin)]+want+s[j:]), 0o644))
		}
		return
	}
	assert.Equal(t, want, current, "the generated section of %s is stale: go test -update rewrites it", path)
}
