package proc

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWithMorePIDs(t *testing.T) {
	tests := []struct {
		name string
		argv []string
		pids []int
		want []string
	}{
		{name: "none to add", argv: []string{"-W", "-db", "-f", "p.cfg", "-sf", "10"}, want: []string{"-W", "-db", "-f", "p.cfg", "-sf", "10"}},
		{name: "at the end", argv: []string{"-W", "-db", "-f", "p.cfg", "-sf", "10"}, pids: []int{7, 8},
			want: []string{"-W", "-db", "-f", "p.cfg", "-sf", "10", "7", "8"}},
		{name: "before -x", argv: []string{"-W", "-db", "-f", "p.cfg", "-dR", "-sf", "10", "-x", "admin.sock"}, pids: []int{7},
			want: []string{"-W", "-db", "-f", "p.cfg", "-dR", "-sf", "10", "7", "-x", "admin.sock"}},
		{name: "-st too", argv: []string{"-f", "p.cfg", "-st", "10", "11"}, pids: []int{7},
			want: []string{"-f", "p.cfg", "-st", "10", "11", "7"}},
		{name: "no reload", argv: []string{"-W", "-db", "-f", "p.cfg"}, pids: []int{7}, want: []string{"-W", "-db", "-f", "p.cfg"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			argv := append([]string{}, tt.argv...)
			assert.Equal(t, tt.want, withMorePIDs(argv, tt.pids))
			assert.Equal(t, tt.argv, argv, "the input is not modified")
		})
	}
}

func TestOlderMastersIgnoresOtherProcesses(t *testing.T) {
	// No haproxy runs this file: nothing to add, whatever else runs.
	assert.Empty(t, olderMasters([]string{"/nonexistent/serve-launch-test/patched.cfg"}, []string{"1"}))
}

// fakeMaster starts a process whose command line names file, as a master's
// names its config, and that forks a child (as a master forks its worker)
// only once release is called.
func fakeMaster(t *testing.T, file string) (pid int, release func()) {
	t.Helper()
	cmd := exec.Command("sh", "-c", "read x; sleep 60 & wait", file)
	in, err := cmd.StdinPipe()
	require.NoError(t, err)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		cmd.Wait()
	})
	return cmd.Process.Pid, func() { in.Write([]byte("go\n")) }
}

// TestWaitStarted: a reload's shim waits for a master of its config that has
// not forked its worker yet, and for nothing else.
func TestWaitStarted(t *testing.T) {
	file := filepath.Join(t.TempDir(), "patched.cfg")
	var logged []string
	logf := func(format string, a ...any) { logged = append(logged, fmt.Sprintf(format, a...)) }

	pid, release := fakeMaster(t, file)
	other, _ := fakeMaster(t, filepath.Join(t.TempDir(), "other.cfg"))

	t.Run("still starting: bounded", func(t *testing.T) {
		logged = nil
		waitStarted([]int{pid}, []string{file}, 100*time.Millisecond, logf)
		require.Len(t, logged, 1)
		assert.Contains(t, logged[0], fmt.Sprintf("warning: haproxy masters [%d] still starting after 100ms", pid))
	})
	t.Run("not running this config, or gone: not waited for", func(t *testing.T) {
		logged = nil
		began := time.Now()
		waitStarted([]int{other, 1 << 30}, []string{file}, 10*time.Second, logf)
		assert.Less(t, time.Since(began), 5*time.Second)
		assert.Empty(t, logged)
	})
	t.Run("started: the wait ends", func(t *testing.T) {
		logged = nil
		release()
		began := time.Now()
		waitStarted([]int{pid}, []string{file}, 10*time.Second, logf)
		assert.Less(t, time.Since(began), 5*time.Second)
		assert.True(t, hasChild(pid))
		for _, l := range logged {
			assert.NotContains(t, l, "warning")
		}
	})
}
