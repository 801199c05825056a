package config

import (
	"path/filepath"
	"testing"

	"github.com/serve-launch/serve-launch/internal/testing/testenv"
)

// golden compares got with testdata/name, or writes it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	testenv.Golden(t, filepath.Join("testdata", name), got)
}
