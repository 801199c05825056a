//go:build linux

package state

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
	lock, err := LockFile(path+".lock", syscall.LOCK_EX, 5*time.Second, nil)
	require.NoError(t, err)
	defer lock.Close()
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

	lock, err := LockFile(path+".lock", syscall.LOCK_EX, time.Second, nil)
	require.NoError(t, err)
	defer lock.Close()
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

// openedBy waits, bounded, until this process has name open: the moment a
// LockInstance running on another goroutine holds the file and polls for
// its lock.
func openedBy(t *testing.T, name string) {
	t.Helper()
	waitFor(t, 10*time.Second, name+" open", func() bool {
		fds, _ := os.ReadDir("/proc/self/fd")
		n := 0
		for _, fd := range fds {
			if target, err := os.Readlink("/proc/self/fd/" + fd.Name()); err == nil && target == name {
				n++
			}
		}
		return n >= 2 // ours and the waiter's
	})
}

// TestLockInstanceAfterPrune: a hot reload removes a dead instance's
// directory holding its lock. A shim that waited for that lock must not go
// on with a lock on a removed file in a removed directory (its patched file
// and record would be lost, or its writes fail): it makes the directory
// anew and locks it again. A reload that waited finds the instance gone.
func TestLockInstanceAfterPrune(t *testing.T) {
	for _, create := range []bool{true, false} {
		t.Run(fmt.Sprintf("create=%v", create), func(t *testing.T) {
			s, err := OpenStateDir(filepath.Join(t.TempDir(), "state"))
			require.NoError(t, err)
			dir, err := s.InstanceDir("0123456789abcdef")
			require.NoError(t, err)
			pruner, err := s.LockInstance(dir, time.Second, false)
			require.NoError(t, err)

			type locked struct {
				unlock func()
				err    error
			}
			done := make(chan locked, 1)
			go func() {
				u, err := s.LockInstance(dir, 10*time.Second, create)
				done <- locked{u, err}
			}()
			openedBy(t, filepath.Join(dir, lockName))
			require.NoError(t, os.RemoveAll(dir))
			pruner()
			got := <-done

			if !create {
				require.Error(t, got.err)
				assert.ErrorIs(t, got.err, ErrInstanceGone)
				assert.NoDirExists(t, dir, "a reload does not bring a pruned instance back")
				return
			}
			require.NoError(t, got.err)
			defer got.unlock()
			assert.DirExists(t, dir, "the shim's instance directory is made anew")
			_, err = s.LockInstance(dir, 0, false)
			assert.Error(t, err, "the lock held is the one on the live file")
			require.NoError(t, s.WriteFile(dir, PatchedFile, []byte("global\n")))
		})
	}
}
