//go:build linux

package state

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestOpenStateDirSafety(t *testing.T) {
	uid := os.Geteuid()
	tests := []struct {
		name    string
		setup   func(t *testing.T, path string)
		uid     int
		wantErr string
	}{
		{name: "created 0700 when missing", setup: func(*testing.T, string) {}, uid: uid},
		{name: "existing private dir", setup: func(t *testing.T, p string) { require.NoError(t, os.Mkdir(p, 0o700)) }, uid: uid},
		{name: "wrong owner", setup: func(t *testing.T, p string) { require.NoError(t, os.Mkdir(p, 0o700)) },
			uid: uid + 4242, wantErr: "not by the current user"},
		{name: "group writable", setup: func(t *testing.T, p string) {
			require.NoError(t, os.Mkdir(p, 0o700))
			require.NoError(t, os.Chmod(p, 0o770))
		}, uid: uid, wantErr: "writable by group or others (mode 0770)"},
		{name: "other writable", setup: func(t *testing.T, p string) {
			require.NoError(t, os.Mkdir(p, 0o700))
			require.NoError(t, os.Chmod(p, 0o703))
		}, uid: uid, wantErr: "writable by group or others"},
		{name: "symlink", setup: func(t *testing.T, p string) {
			target := p + "-target"
			require.NoError(t, os.Mkdir(target, 0o700))
			require.NoError(t, os.Symlink(target, p))
		}, uid: uid, wantErr: "is a symlink"},
		{name: "a file", setup: func(t *testing.T, p string) { writeFile(t, p, "x") }, uid: uid, wantErr: "not a directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "state")
			tt.setup(t, path)
			s, err := openStateDir(path, tt.uid)
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				assert.Contains(t, err.Error(), path)
				return
			}
			require.NoError(t, err)
			st, err := os.Lstat(s.Path())
			require.NoError(t, err)
			assert.True(t, st.IsDir())
			assert.Equal(t, os.FileMode(0o700), st.Mode().Perm())
		})
	}
}

func TestStateDirNeverFollowsPlantedSymlinks(t *testing.T) {
	s, err := OpenStateDir(filepath.Join(t.TempDir(), "state"))
	require.NoError(t, err)
	victim := filepath.Join(t.TempDir(), "victim")
	writeFile(t, victim, "precious\n")

	dir, err := s.InstanceDir(InstanceID([]string{"/tmp/haproxy-serve/haproxy.cfg"}))
	require.NoError(t, err)

	t.Run("write replaces a symlink, never writes through it", func(t *testing.T) {
		require.NoError(t, os.Symlink(victim, filepath.Join(dir, PatchedFile)))
		require.NoError(t, s.WriteFile(dir, PatchedFile, []byte("patched\n")))
		got, err := os.ReadFile(victim)
		require.NoError(t, err)
		assert.Equal(t, "precious\n", string(got))
		st, err := os.Lstat(filepath.Join(dir, PatchedFile))
		require.NoError(t, err)
		assert.True(t, st.Mode().IsRegular())
		assert.Equal(t, os.FileMode(0o600), st.Mode().Perm())
	})
	t.Run("read refuses a symlink", func(t *testing.T) {
		require.NoError(t, os.Symlink(victim, filepath.Join(dir, InstanceFile)))
		_, err := s.ReadFile(dir, InstanceFile)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "symlink")
		require.NoError(t, os.Remove(filepath.Join(dir, InstanceFile)))
	})
	t.Run("log refuses a symlink", func(t *testing.T) {
		require.NoError(t, os.Symlink(victim, filepath.Join(dir, ShimLogFile)))
		_, err := s.OpenLog(dir, true)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "symlink")
	})
	t.Run("instance dir symlink refused and skipped", func(t *testing.T) {
		other := t.TempDir()
		require.NoError(t, os.Symlink(other, filepath.Join(s.Path(), "planted")))
		_, err := s.InstanceDir("planted")
		require.Error(t, err)
		assert.Contains(t, err.Error(), "symlink")
		dirs, err := s.InstanceDirs()
		require.NoError(t, err)
		assert.Equal(t, []string{dir}, dirs)
	})
	t.Run("outside the state dir refused", func(t *testing.T) {
		require.Error(t, s.WriteFile(t.TempDir(), "x", nil))
		require.Error(t, s.WriteFile(s.Path(), "x", nil))
	})
}

// logInstance makes a state dir with one instance directory and returns
// them with the path of its shim.log.
func logInstance(t *testing.T) (s *StateDir, dir, name string) {
	t.Helper()
	s, err := OpenStateDir(filepath.Join(t.TempDir(), "state"))
	require.NoError(t, err)
	dir, err = s.InstanceDir("abc")
	require.NoError(t, err)
	return s, dir, filepath.Join(dir, ShimLogFile)
}

// TestOpenLogRotates: past MaxLogSize, and only when asked (under the
// instance lock), shim.log becomes shim.log.1 and a new log starts; a
// writer holding the old file keeps appending to shim.log.1.
func TestOpenLogRotates(t *testing.T) {
	s, dir, name := logInstance(t)
	big := bytes.Repeat([]byte("x"), MaxLogSize)
	require.NoError(t, os.WriteFile(name, big, 0o600))
	require.NoError(t, os.WriteFile(name+".1", []byte("oldest\n"), 0o600))

	size := func(p string) int64 {
		t.Helper()
		st, err := os.Stat(p)
		require.NoError(t, err)
		return st.Size()
	}
	// At the limit: appended to, not rotated.
	f, err := s.OpenLog(dir, true)
	require.NoError(t, err)
	_, err = f.WriteString("one\n")
	require.NoError(t, err)
	require.NoError(t, f.Close())
	assert.Equal(t, int64(MaxLogSize+4), size(name))

	// Past it, without the lock: still appended to.
	old, err := s.OpenLog(dir, false)
	require.NoError(t, err)
	defer old.Close()
	assert.Equal(t, int64(MaxLogSize+4), size(name))

	// Past it, with the lock: rotated.
	f, err = s.OpenLog(dir, true)
	require.NoError(t, err)
	_, err = f.WriteString("new\n")
	require.NoError(t, err)
	require.NoError(t, f.Close())
	got, err := os.ReadFile(name)
	require.NoError(t, err)
	assert.Equal(t, "new\n", string(got))
	assert.Equal(t, int64(MaxLogSize+4), size(name+".1"), "the full log replaced the oldest generation")

	_, err = old.WriteString("late\n")
	require.NoError(t, err)
	assert.Equal(t, int64(MaxLogSize+9), size(name+".1"), "an open writer goes on into shim.log.1")
}

func TestDefaultStateDir(t *testing.T) {
	t.Setenv(EnvStateDir, "/x/state")
	assert.Equal(t, "/x/state", DefaultStateDir())
	t.Setenv(EnvStateDir, "")
	t.Setenv("XDG_RUNTIME_DIR", "/run/user/7")
	assert.Equal(t, "/run/user/7/serve-launch", DefaultStateDir())
	t.Setenv("XDG_RUNTIME_DIR", "")
	assert.Contains(t, DefaultStateDir(), "serve-launch-")
}

func TestShimDir(t *testing.T) {
	s, err := OpenStateDir(filepath.Join(t.TempDir(), "state"))
	require.NoError(t, err)
	shim := "/opt/serve-launch/bin/serve-launch-shim"
	bin, err := ShimDir(s, shim)
	require.NoError(t, err)
	got, err := os.Readlink(filepath.Join(bin, "haproxy"))
	require.NoError(t, err)
	assert.Equal(t, shim, got)
	// Idempotent, and a new shim replaces the old link.
	_, err = ShimDir(s, shim)
	require.NoError(t, err)
	_, err = ShimDir(s, shim+"2")
	require.NoError(t, err)
	got, err = os.Readlink(filepath.Join(bin, "haproxy"))
	require.NoError(t, err)
	assert.Equal(t, shim+"2", got)
}

func TestStatusStates(t *testing.T) {
	// A stand-in haproxy: alive, with the running file on its command line.
	running := filepath.Join(t.TempDir(), "patched.cfg")
	alive := exec.Command("sh", "-c", "sleep 60", running)
	require.NoError(t, alive.Start())
	t.Cleanup(func() { alive.Process.Kill(); alive.Wait() })
	// A PID that has exited, as a shim killed before exec leaves it.
	gone := exec.Command("true")
	require.NoError(t, gone.Run())
	dead := gone.Process.Pid

	for _, tt := range []struct {
		name   string
		rec    *Instance
		events *Events
		state  string
		detail string
		stale  bool
	}{
		{name: "serving", rec: &Instance{MasterPID: alive.Process.Pid, Running: []string{running}, Result: ResultPatched},
			state: StateServing},
		{name: "degraded by a quarantined snippet", rec: &Instance{MasterPID: alive.Process.Pid, Running: []string{running}, Result: ResultQuarantined,
			Quarantined: []QuarantinedSnippet{{Name: "20-x.toml", Error: "20-x.toml:3: boom"}}},
			state: StateDegraded, detail: "left out (quarantined): 20-x.toml"},
		{name: "degraded, unpatched", rec: &Instance{MasterPID: alive.Process.Pid, Running: []string{running}, Result: ResultUnpatched, Unpatched: "the overrides directory: permission denied"},
			state: StateDegraded, detail: "WITHOUT the overrides: the overrides directory: permission denied"},
		{name: "a recycled PID is not our haproxy", rec: &Instance{MasterPID: os.Getpid(), Running: []string{"/a/patched.cfg"}, Result: ResultPatched},
			state: StateDead, detail: fmt.Sprintf("haproxy master %d is not running", os.Getpid())},
		{name: "never started", rec: &Instance{MasterPID: 0}, state: StateDead, detail: "no haproxy was started"},
		{name: "a shim killed before exec wedges Ray", rec: &Instance{MasterPID: alive.Process.Pid, Running: []string{running}, Result: ResultPatched, Seq: 3},
			events: &Events{Seq: 4, Start: Event{Kind: EventReload, PID: dead, Result: ResultStarting}},
			state:  StateWedged, detail: fmt.Sprintf("(PID %d) died before it ran haproxy", dead)},
		{name: "a shim at work", rec: &Instance{MasterPID: alive.Process.Pid, Running: []string{running}, Seq: 3},
			events: &Events{Seq: 4, Start: Event{Kind: EventReload, PID: os.Getpid(), Result: ResultStarting}},
			state:  StateStarting},
		{name: "a shim between its record and its exec is starting, not dead",
			rec:   &Instance{MasterPID: alive.Process.Pid, Running: []string{"/a/patched.cfg"}, RayArgv: []string{"-c", "sleep 60", running}, Result: ResultPatched},
			state: StateStarting, detail: "about to exec haproxy"},
		{name: "stopped by Ray, whose process is gone", rec: &Instance{MasterPID: dead, Running: []string{running}, RayPID: dead},
			state: StateStopped, detail: "the Ray process that started it"},
		{name: "a shim killed with its Ray process wedges nothing", rec: &Instance{MasterPID: dead, Running: []string{running}, Seq: 3},
			events: &Events{Seq: 4, Start: Event{Kind: EventReload, PID: dead, RayPID: dead, Result: ResultStarting}},
			state:  StateStopped},
		{name: "a refused hot reload degrades", rec: &Instance{MasterPID: alive.Process.Pid, Running: []string{running}, Result: ResultPatched, Seq: 4},
			events: &Events{Seq: 4, Start: Event{Kind: EventStart, At: time.Now().Add(-time.Minute), Result: ResultPatched},
				HotReload: Event{Kind: EventHotReload, At: time.Now(), Result: ResultFailed, Error: "30-x.toml:2: boom"}},
			state: StateDegraded, detail: "the last hot reload was refused"},
		{name: "its launcher has exited", rec: &Instance{MasterPID: dead, Running: []string{running}, LauncherPID: dead},
			state: StateStopped, detail: "its launcher"},
		{name: "a record that could not be written is stale", rec: &Instance{MasterPID: alive.Process.Pid, Running: []string{running}, Result: ResultPatched, Seq: 1},
			events: &Events{Seq: 3, RecordError: "write instance.json: no space left on device",
				Start: Event{Kind: EventReload, PID: alive.Process.Pid, Result: ResultUnpatched, Error: "unpatched: the patched config could not be written"}},
			state: StateDegraded, stale: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, err := OpenStateDir(filepath.Join(t.TempDir(), "state"))
			require.NoError(t, err)
			dir, err := s.InstanceDir("abc")
			require.NoError(t, err)
			require.NoError(t, s.SaveInstance(dir, tt.rec))
			if tt.events != nil {
				require.NoError(t, WriteSlot(filepath.Join(dir, EventsFile), tt.events.encode()))
			}
			st, err := Status(s)
			require.NoError(t, err)
			require.Len(t, st, 1)
			assert.Equal(t, tt.state, st[0].State, st[0].StateDetail)
			assert.Contains(t, st[0].StateDetail, tt.detail)
			assert.Equal(t, tt.stale, st[0].RecordStale)
			assert.Equal(t, Unhealthy(tt.state), tt.state == StateWedged || tt.state == StateDead || tt.state == StateDegraded)
		})
	}
}

// TestOpenLogRotateFailure: a log that cannot be rotated is appended to,
// with the reason; it never fails the haproxy start that opens it.
func TestOpenLogRotateFailure(t *testing.T) {
	s, dir, name := logInstance(t)
	require.NoError(t, os.WriteFile(name, bytes.Repeat([]byte("x"), MaxLogSize+1), 0o600))
	// A non-empty directory where shim.log.1 goes: rename cannot replace it.
	require.NoError(t, os.MkdirAll(filepath.Join(name+".1", "keep"), 0o700))

	f, err := s.OpenLog(dir, true)
	require.NoError(t, err)
	require.NoError(t, f.Close())
	data, err := os.ReadFile(name)
	require.NoError(t, err)
	assert.Greater(t, len(data), MaxLogSize+1, "appended to")
	assert.Contains(t, string(data[MaxLogSize+1:]), "warning: rotate "+name)
}

// TestWriteFileReplaces: a write over an existing file (the swap path) and
// a first write (the rename path) both leave exactly the new content and no
// temp file, and a reader holding the old file keeps reading it whole.
func TestWriteFileReplaces(t *testing.T) {
	s, err := OpenStateDir(filepath.Join(t.TempDir(), "state"))
	require.NoError(t, err)
	dir, err := s.InstanceDir("abc")
	require.NoError(t, err)
	name := filepath.Join(dir, PatchedFile)

	require.NoError(t, s.WriteFile(dir, PatchedFile, []byte("first\n")))
	old, err := os.Open(name)
	require.NoError(t, err)
	defer old.Close()
	for _, content := range []string{"second\n", "third, longer than the others\n"} {
		require.NoError(t, s.WriteFile(dir, PatchedFile, []byte(content)))
		got, err := os.ReadFile(name)
		require.NoError(t, err)
		assert.Equal(t, content, string(got))
	}
	held, err := io.ReadAll(old)
	require.NoError(t, err)
	assert.Equal(t, "first\n", string(held), "the file a reader opened before is not written into")
	ents, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	assert.Equal(t, []string{PatchedFile}, names, "no temp file is left behind")
}

// TestStatusRetakesAVerdictARaceMade: a reload landing between the read of
// the record and the look at /proc stops the master the record names; the
// verdict "dead" is taken again on the files the reload wrote.
func TestStatusRetakesAVerdictARaceMade(t *testing.T) {
	running := filepath.Join(t.TempDir(), "patched.cfg")
	next := exec.Command("sh", "-c", "sleep 60", running)
	require.NoError(t, next.Start())
	t.Cleanup(func() { next.Process.Kill(); next.Wait() })
	gone := exec.Command("true")
	require.NoError(t, gone.Run())

	s, err := OpenStateDir(filepath.Join(t.TempDir(), "state"))
	require.NoError(t, err)
	dir, err := s.InstanceDir("abc")
	require.NoError(t, err)
	// The record of the master the reload stops, as read before it did.
	require.NoError(t, s.SaveInstance(dir, &Instance{MasterPID: gone.Process.Pid, Running: []string{running}, Result: ResultPatched, Seq: 1}))
	require.NoError(t, WriteSlot(filepath.Join(dir, EventsFile), (&Events{Seq: 1, Start: Event{Kind: EventStart, Result: ResultPatched}}).encode()))

	looks := 0
	in, err := s.instance(dir, func(in *Instance, ev *Events) {
		if looks++; looks == 1 {
			// The reload lands now: its record and slot, then the old master stops.
			require.NoError(t, s.SaveInstance(dir, &Instance{MasterPID: next.Process.Pid, Running: []string{running}, Result: ResultPatched, Seq: 3}))
			require.NoError(t, WriteSlot(filepath.Join(dir, EventsFile), (&Events{Seq: 3, Start: Event{Kind: EventReload, Result: ResultPatched}}).encode()))
		}
		in.live(ev)
	})
	require.NoError(t, err)
	assert.Equal(t, 2, looks, "the dead verdict was taken again")
	assert.Equal(t, StateServing, in.State, in.StateDetail)
	assert.Equal(t, next.Process.Pid, in.MasterPID)

	// A master dead with no reload after it stays dead, after one more read.
	looks = 0
	require.NoError(t, s.SaveInstance(dir, &Instance{MasterPID: gone.Process.Pid, Running: []string{running}, Result: ResultPatched, Seq: 3}))
	in, err = s.instance(dir, func(in *Instance, ev *Events) { looks++; in.live(ev) })
	require.NoError(t, err)
	assert.Equal(t, 1, looks)
	assert.Equal(t, StateDead, in.State)
}
