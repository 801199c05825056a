package raycfg

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/serve-launch/serve-launch/internal/testing/testenv"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// blockedFlockWaiter reports whether /proc/locks shows a process blocked on
// a FLOCK of the file with inode ino (a "->" line names a waiter).
func blockedFlockWaiter(t *testing.T, ino uint64) bool {
	t.Helper()
	b, err := os.ReadFile("/proc/locks")
	require.NoError(t, err)
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) >= 7 && f[1] == "->" && f[2] == "FLOCK" && strings.HasSuffix(f[6], fmt.Sprintf(":%d", ino)) {
			return true
		}
	}
	return false
}

// TestWriteConfigUnderLock pins Ray's write (HAProxyApi's
// _generate_config_file_internal): it waits for flock(LOCK_EX) on <cfg>.lock, which a shim reading
// the file holds, and then rewrites the file in place (same inode, no
// rename), so a reader without the lock could see a partial file.
func TestWriteConfigUnderLock(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "haproxy.cfg")
	require.NoError(t, WriteConfig(cfg, []byte("old\n")))
	before, err := os.Stat(cfg)
	require.NoError(t, err)

	lock, err := os.OpenFile(cfg+".lock", os.O_RDWR, 0)
	require.NoError(t, err, "the lock file exists after a write")
	defer lock.Close()
	require.NoError(t, syscall.Flock(int(lock.Fd()), syscall.LOCK_EX))
	li, err := lock.Stat()
	require.NoError(t, err)
	ino := li.Sys().(*syscall.Stat_t).Ino

	done := make(chan error, 1)
	go func() { done <- WriteConfig(cfg, []byte("new\n")) }()
	testenv.Eventually(t, 10*time.Second, "WriteConfig waiting on the lock", func() (bool, string) {
		select {
		case err := <-done:
			t.Fatalf("WriteConfig returned (%v) while another process held %s.lock", err, cfg)
		default:
		}
		return blockedFlockWaiter(t, ino), "no blocked flock on the lock's inode in /proc/locks"
	})
	got, err := os.ReadFile(cfg)
	require.NoError(t, err)
	assert.Equal(t, "old\n", string(got), "nothing written while the lock is held")

	require.NoError(t, syscall.Flock(int(lock.Fd()), syscall.LOCK_UN))
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("WriteConfig did not finish within 10s of the unlock")
	}
	got, err = os.ReadFile(cfg)
	require.NoError(t, err)
	assert.Equal(t, "new\n", string(got))
	after, err := os.Stat(cfg)
	require.NoError(t, err)
	assert.True(t, os.SameFile(before, after), "rewritten in place, not replaced by a rename")
}
