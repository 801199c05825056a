//go:build linux

package state

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/serve-launch/serve-launch/internal/testing/testenv"
	"github.com/stretchr/testify/require"
)

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(t, os.WriteFile(path, []byte(data), 0o644))
}

// waitFor polls cond (testenv.Eventually) until it holds or d has passed.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	testenv.Eventually(t, d, what, func() (bool, string) { return cond(), "still not so" })
}
