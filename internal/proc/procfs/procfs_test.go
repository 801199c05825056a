//go:build linux

package procfs_test

import (
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/serve-launch/serve-launch/internal/proc/internal/proctest"
	"github.com/serve-launch/serve-launch/internal/proc/procfs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCatches reads whether a process handles a signal, which tells a
// haproxy master ready for SIGUSR2 from one still starting.
func TestCatches(t *testing.T) {
	handles, release := proctest.StartBlocked(t, nil, "sh", "-c", "trap 'exit 0' USR2; read x")
	defer release()
	plain, release2 := proctest.StartBlocked(t, nil, "sh", "-c", "read x")
	defer release2()
	proctest.WaitFor(t, 10*time.Second, "the trap", func() bool { return procfs.Catches(handles, syscall.SIGUSR2) })
	assert.False(t, procfs.Catches(plain, syscall.SIGUSR2))
	assert.True(t, procfs.WaitCatches(handles, syscall.SIGUSR2, time.Second))
	assert.False(t, procfs.WaitCatches(plain, syscall.SIGUSR2, 50*time.Millisecond))
}

func TestExecdArgs(t *testing.T) {
	file := filepath.Join(t.TempDir(), "patched.cfg")
	pid, _ := proctest.StartBlocked(t, nil, "sh", "-c", "read x", file, "-W")
	assert.Equal(t, []string{"sh", "-c", "read x", file, "-W"}, procfs.ExecdArgs(pid))
	assert.Nil(t, procfs.ExecdArgs(1<<30), "a PID that is gone")

	// A kernel thread (a reused PID) has an empty command line for good:
	// it is told apart by its flags, not waited out. Kernel threads are
	// visible here unless the tests run in a PID namespace of their own.
	for _, p := range procfs.PIDs() {
		if st, err := procfs.ReadStat(p); err == nil && st.KThread {
			assert.Nil(t, procfs.ExecdArgs(p), "kernel thread %d", p)
			break
		}
	}
	st, err := procfs.ReadStat(pid)
	require.NoError(t, err)
	assert.False(t, st.KThread)
}
