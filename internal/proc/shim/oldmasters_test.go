//go:build linux

package shim_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/serve-launch/serve-launch/internal/proc/internal/proctest"
	"github.com/serve-launch/serve-launch/internal/proc/procfs"
	"github.com/serve-launch/serve-launch/internal/proc/shim"
	"github.com/serve-launch/serve-launch/internal/testing/testenv"
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
			assert.Equal(t, tt.want, shim.WithMorePIDs(argv, tt.pids))
			assert.Equal(t, tt.argv, argv, "the input is not modified")
		})
	}
}

func TestOlderMastersIgnoresOtherProcesses(t *testing.T) {
	// No haproxy runs this file: nothing to add, whatever else runs.
	assert.Empty(t, shim.OlderMasters([]string{"/nonexistent/serve-launch-test/patched.cfg"}, []int{1}, nil))
}

func TestWaitStarted(t *testing.T) {
	file := filepath.Join(t.TempDir(), "patched.cfg")
	files := []string{file}
	const short = 100 * time.Millisecond
	// A master-worker haproxy's argv names its config and -W; it forks its
	// worker once started (here: once released).
	master, startMaster := proctest.StartBlocked(t, nil, "sh", "-c", "read x; sleep 60 & wait", file, "-W")
	// Without -W haproxy never forks.
	plain, _ := proctest.StartBlocked(t, nil, "sh", "-c", "read x; sleep 60 & wait", file)
	other, _ := proctest.StartBlocked(t, nil, "sh", "-c", "read x; sleep 60 & wait", filepath.Join(t.TempDir(), "other.cfg"), "-W")
	self, err := os.Executable()
	require.NoError(t, err)
	shimPID, execShim := proctest.StartBlocked(t, []string{proctest.EnvBlockMode + "=1"}, self, "-f", file)

	tests := []struct {
		name string
		pids []int
		late []int
	}{
		{name: "a -W master without its worker", pids: []int{master}, late: []int{master}},
		{name: "a shim not exec'd yet", pids: []int{shimPID}, late: []int{shimPID}},
		{name: "both", pids: []int{shimPID, master}, late: []int{shimPID, master}},
		{name: "haproxy without -W", pids: []int{plain}},
		{name: "another config", pids: []int{other}},
		{name: "gone", pids: []int{1 << 30}},
		{name: "none"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			waited, late := shim.WaitStarted(tt.pids, files, exe(t), short)
			assert.Equal(t, tt.late, late)
			if len(tt.late) > 0 {
				assert.GreaterOrEqual(t, waited, short)
			}
		})
	}

	t.Run("the wait ends when they are up", func(t *testing.T) {
		startMaster()
		execShim()
		_, late := shim.WaitStarted([]int{shimPID, master}, files, exe(t), 10*time.Second)
		assert.Empty(t, late)
		assert.True(t, procfs.HasChild(master))
	})
}

// TestOlderMastersSkipsShims: a shim that has not exec'd yet (its comm is
// haproxy, the symlink's name, and after a passthrough its argv names the
// running file) is no master to stop.
func TestOlderMastersSkipsShims(t *testing.T) {
	file := filepath.Join(t.TempDir(), "haproxy.cfg")
	self, err := os.Executable()
	require.NoError(t, err)
	link := filepath.Join(t.TempDir(), "haproxy")
	require.NoError(t, os.Symlink(self, link))
	shimPID, _ := proctest.StartBlocked(t, []string{proctest.EnvBlockMode + "=1"}, link, "-f", file)
	testenv.Eventually(t, 10*time.Second, "the shim runs as haproxy", func() (bool, string) {
		comm, _ := os.ReadFile("/proc/" + strconv.Itoa(shimPID) + "/comm")
		return strings.TrimSpace(string(comm)) == "haproxy", string(comm)
	})
	assert.True(t, procfs.Runs(shimPID, []string{file}))
	assert.Empty(t, shim.OlderMasters([]string{file}, nil, exe(t)))
}

// exe is the test binary's own executable, as shim.RunShim passes it on.
func exe(t *testing.T) os.FileInfo {
	t.Helper()
	fi, err := procfs.SelfExe()
	require.NoError(t, err)
	return fi
}
