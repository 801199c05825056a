//go:build linux

package state

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestReadLimited(t *testing.T) {
	const limit = 1000
	tests := []struct {
		name string
		size int
		want int // bytes returned: the whole file, or limit+1 when over
	}{
		{"empty", 0, 0},
		{"small", 10, 10},
		{"at the limit", limit, limit},
		{"one over", limit + 1, limit + 1},
		{"far over", 5 * limit, limit + 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			content := []byte(strings.Repeat("x", tt.size))
			path := filepath.Join(t.TempDir(), "f")
			require.NoError(t, os.WriteFile(path, content, 0o600))
			f, err := os.Open(path)
			require.NoError(t, err)
			defer f.Close()
			got, err := ReadLimited(f, limit)
			require.NoError(t, err)
			assert.Equal(t, content[:tt.want], got)

			// A reader that is not a file (a pipe, stdin) has no size to go by.
			got, err = ReadLimited(bytes.NewReader(content), limit)
			require.NoError(t, err)
			assert.Equal(t, content[:tt.want], got)
		})
	}
}

func TestReadLimitedFIFO(t *testing.T) {
	// A FIFO stats as size 0 but has data: the buffer must grow.
	r, w, err := os.Pipe()
	require.NoError(t, err)
	defer r.Close()
	content := []byte(strings.Repeat("y", 3000))
	go func() {
		w.Write(content)
		w.Close()
	}()
	got, err := ReadLimited(r, 1<<20)
	require.NoError(t, err)
	assert.Equal(t, content, got)
}
