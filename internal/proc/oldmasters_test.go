package proc

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

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
			assert.Equal(t, tt.want, withMorePIDs(argv, tt.pids))
			assert.Equal(t, tt.argv, argv, "the input is not modified")
		})
	}
}

func TestOlderMastersIgnoresOtherProcesses(t *testing.T) {
	// No haproxy runs this file: nothing to add, whatever else runs.
	assert.Empty(t, olderMasters([]string{"/nonexistent/serve-launch-test/patched.cfg"}, []int{1}, nil))
}

// startBlocked starts argv, in its own process group, stopped at reading its
// stdin: release writes a line to it (sh's `read` returns) and closes it.
func startBlocked(t *testing.T, env []string, argv ...string) (pid int, release func()) {
	t.Helper()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), env...)
	in, err := cmd.StdinPipe()
	require.NoError(t, err)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	require.NoError(t, cmd.Start())
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
	})
	// Start returns once the exec has begun (it closes the close-on-exec
	// pipe Start waits on), but the kernel sets the new command line a
	// moment later: until then /proc/PID/cmdline reads empty, so the
	// process does not name its file yet, and under load a test read it in
	// that window (TestOlderMastersSkipsShims, 9 runs in 300). Wait,
	// bounded, until it reads argv; the tests' assertions read it too.
	pid = cmd.Process.Pid
	testenv.Eventually(t, 10*time.Second, fmt.Sprintf("process %d to exec %q", pid, argv), func() (bool, string) {
		got := procArgs(pid)
		return slices.Equal(got, argv), fmt.Sprintf("its command line is %q", got)
	})
	return pid, func() {
		in.Write([]byte("go\n"))
		in.Close()
	}
}

// TestWaitStarted: a reload's shim waits for the haproxy it replaces while
// that is a shim not yet exec'd or a -W master without its worker, and for
// nothing else.
func TestWaitStarted(t *testing.T) {
	file := filepath.Join(t.TempDir(), "patched.cfg")
	files := []string{file}
	const short = 100 * time.Millisecond
	// A master-worker haproxy's argv names its config and -W; it forks its
	// worker once started (here: once released).
	master, startMaster := startBlocked(t, nil, "sh", "-c", "read x; sleep 60 & wait", file, "-W")
	// Without -W haproxy never forks.
	plain, _ := startBlocked(t, nil, "sh", "-c", "read x; sleep 60 & wait", file)
	other, _ := startBlocked(t, nil, "sh", "-c", "read x; sleep 60 & wait", filepath.Join(t.TempDir(), "other.cfg"), "-W")
	self, err := os.Executable()
	require.NoError(t, err)
	shim, execShim := startBlocked(t, []string{envTestBlock + "=1"}, self, "-f", file)

	tests := []struct {
		name string
		pids []int
		late []int
	}{
		{name: "a -W master without its worker", pids: []int{master}, late: []int{master}},
		{name: "a shim not exec'd yet", pids: []int{shim}, late: []int{shim}},
		{name: "both", pids: []int{shim, master}, late: []int{shim, master}},
		{name: "haproxy without -W", pids: []int{plain}},
		{name: "another config", pids: []int{other}},
		{name: "gone", pids: []int{1 << 30}},
		{name: "none"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			waited, late := waitStarted(tt.pids, files, exe(t), short)
			assert.Equal(t, tt.late, late)
			if len(tt.late) > 0 {
				assert.GreaterOrEqual(t, waited, short)
			}
		})
	}

	t.Run("the wait ends when they are up", func(t *testing.T) {
		startMaster()
		execShim()
		_, late := waitStarted([]int{shim, master}, files, exe(t), 10*time.Second)
		assert.Empty(t, late)
		assert.True(t, hasChild(master))
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
	shim, _ := startBlocked(t, []string{envTestBlock + "=1"}, link, "-f", file)
	testenv.Eventually(t, 10*time.Second, "the shim runs as haproxy", func() (bool, string) {
		comm, _ := os.ReadFile("/proc/" + strconv.Itoa(shim) + "/comm")
		return strings.TrimSpace(string(comm)) == "haproxy", string(comm)
	})
	assert.True(t, isHAProxyRunning(shim, []string{file}))
	assert.Empty(t, olderMasters([]string{file}, nil, exe(t)))
}

func TestExecdArgs(t *testing.T) {
	file := filepath.Join(t.TempDir(), "patched.cfg")
	pid, _ := startBlocked(t, nil, "sh", "-c", "read x", file, "-W")
	assert.Equal(t, []string{"sh", "-c", "read x", file, "-W"}, execdArgs(pid))
	assert.Nil(t, execdArgs(1<<30), "a PID that is gone")

	// A kernel thread (a reused PID) has an empty command line for good:
	// it is told apart by its flags, not waited out. Kernel threads are
	// visible here unless the tests run in a PID namespace of their own.
	for _, p := range allPIDs() {
		if st, err := procStat(p); err == nil && st.kthread {
			assert.Nil(t, execdArgs(p), "kernel thread %d", p)
			break
		}
	}
	st, err := procStat(pid)
	require.NoError(t, err)
	assert.False(t, st.kthread)
}

// exe is the test binary's own executable, as RunShim passes it on.
func exe(t *testing.T) os.FileInfo {
	t.Helper()
	fi, err := selfExe()
	require.NoError(t, err)
	return fi
}
