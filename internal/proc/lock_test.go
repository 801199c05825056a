package proc

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// rayWrite rewrites path the way Ray's writer does: exclusive flock on
// <path>.lock, then open(path, "w") and write in two halves, so that a reader
// without the lock would see the truncated file between them.
func rayWrite(t *testing.T, path string, content []byte, between func()) {
	unlock, err := lockFile(path+".lock", syscall.LOCK_EX, 5*time.Second, nil)
	require.NoError(t, err)
	defer unlock()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC|os.O_CREATE, 0o644)
	require.NoError(t, err)
	half := len(content) / 2
	_, err = f.Write(content[:half])
	require.NoError(t, err)
	between()
	_, err = f.Write(content[half:])
	require.NoError(t, err)
	require.NoError(t, f.Close())
}

func TestReadLockedNeverTorn(t *testing.T) {
	path := filepath.Join(t.TempDir(), "haproxy.cfg")
	version := func(n int) []byte {
		return []byte(strings.Repeat(fmt.Sprintf("# version %04d\n", n), 2000))
	}
	writeFile(t, path, string(version(0)))

	const rounds = 30
	for n := 1; n <= rounds; n++ {
		// The reader starts while the writer is between its two halves (the
		// file on disk is torn); it must find the lock busy, wait, and then see
		// the complete new version.
		busy := make(chan struct{})
		result := make(chan []byte, 1)
		errc := make(chan error, 1)
		rayWrite(t, path, version(n), func() {
			torn, err := os.ReadFile(path)
			require.NoError(t, err)
			require.Len(t, torn, len(version(n))/2, "the unlocked file is torn at this point")
			go func() {
				data, err := readLocked(path, 5*time.Second, func() { close(busy) })
				errc <- err
				result <- data
			}()
			select {
			case <-busy:
			case <-time.After(5 * time.Second):
				t.Fatal("reader never found the lock busy")
			}
		})
		require.NoError(t, <-errc)
		got := <-result
		require.True(t, bytes.Equal(got, version(n)), "round %d: torn or stale read (%d bytes)", n, len(got))
	}
}

func TestReadLockedCreatesLockAndBoundsWait(t *testing.T) {
	path := filepath.Join(t.TempDir(), "haproxy.cfg")
	writeFile(t, path, "global\n")
	data, err := ReadLocked(path)
	require.NoError(t, err)
	assert.Equal(t, "global\n", string(data))
	assert.FileExists(t, path+".lock")

	unlock, err := lockFile(path+".lock", syscall.LOCK_EX, time.Second, nil)
	require.NoError(t, err)
	defer unlock()
	start := time.Now()
	_, err = readLocked(path, 100*time.Millisecond, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "still held")
	assert.Less(t, time.Since(start), 2*time.Second)
}

func TestReadLockedMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nope.cfg")
	_, err := ReadLocked(path)
	require.Error(t, err)
	assert.Contains(t, err.Error(), path)
}
