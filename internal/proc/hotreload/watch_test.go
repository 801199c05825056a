//go:build linux

package hotreload

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/serve-launch/serve-launch/internal/proc/internal/proctest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// startWatch runs Watch on dir with a short debounce and returns the channel
// that receives one value per onChange call, once the watch is in place.
func startWatch(t *testing.T, dir string) <-chan struct{} {
	t.Helper()
	return startWatchDebounced(t, dir, 20*time.Millisecond)
}

func startWatchDebounced(t *testing.T, dir string, debounce time.Duration) <-chan struct{} {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	changes := make(chan struct{}, 100)
	ready := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- watch(ctx, dir, debounce, func() { changes <- struct{}{} }, func() { close(ready) })
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			assert.NoError(t, err)
		case <-time.After(5 * time.Second):
			t.Error("watch did not stop")
		}
	})
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("watch failed: %v", err)
	case <-time.After(5 * time.Second):
		t.Fatal("watch never started")
	}
	return changes
}

func expectChange(t *testing.T, changes <-chan struct{}) {
	t.Helper()
	select {
	case <-changes:
	case <-time.After(5 * time.Second):
		t.Fatal("no change reported")
	}
}

func TestWatchEditorRename(t *testing.T) {
	dir := t.TempDir()
	proctest.WriteFile(t, filepath.Join(dir, "10-a.toml"), "old")
	staging := t.TempDir() // same filesystem, outside the watched dir
	changes := startWatch(t, dir)

	tmp := filepath.Join(staging, "10-a.toml.tmp")
	proctest.WriteFile(t, tmp, "new")
	require.NoError(t, os.Rename(tmp, filepath.Join(dir, "10-a.toml")))
	expectChange(t, changes)
}

func TestWatchConfigMapDataSwap(t *testing.T) {
	// The layout kubelet gives a ConfigMap volume.
	dir := t.TempDir()
	require.NoError(t, os.Mkdir(filepath.Join(dir, "..2026_01_01"), 0o755))
	proctest.WriteFile(t, filepath.Join(dir, "..2026_01_01", "10-a.toml"), "v1")
	require.NoError(t, os.Symlink("..2026_01_01", filepath.Join(dir, "..data")))
	require.NoError(t, os.Symlink("..data/10-a.toml", filepath.Join(dir, "10-a.toml")))
	// The next version and its temp symlink exist before the watch starts,
	// so the only event under test is the atomic rename of ..data.
	require.NoError(t, os.Mkdir(filepath.Join(dir, "..2026_01_02"), 0o755))
	proctest.WriteFile(t, filepath.Join(dir, "..2026_01_02", "10-a.toml"), "v2")
	require.NoError(t, os.Symlink("..2026_01_02", filepath.Join(dir, "..data_tmp")))
	changes := startWatch(t, dir)

	require.NoError(t, os.Rename(filepath.Join(dir, "..data_tmp"), filepath.Join(dir, "..data")))
	expectChange(t, changes)
	got, err := os.ReadFile(filepath.Join(dir, "10-a.toml"))
	require.NoError(t, err)
	assert.Equal(t, "v2", string(got))
}

func TestWatchDebounces(t *testing.T) {
	dir := t.TempDir()
	// A debounce far longer than 20 small writes take, so that a loaded
	// machine pausing between two of them does not split the burst much.
	const debounce = 300 * time.Millisecond
	changes := startWatchDebounced(t, dir, debounce)
	for i := 0; i < 20; i++ {
		proctest.WriteFile(t, filepath.Join(dir, "10-a.toml"), string(rune('a'+i)))
	}
	expectChange(t, changes)
	calls := 1
	for {
		select {
		case <-changes:
			calls++
			continue
		case <-time.After(2 * debounce):
		}
		break
	}
	// What matters is far fewer calls than events.
	assert.LessOrEqual(t, calls, 4, "20 quick writes gave %d calls", calls)
}

func TestWatchSurvivesDirRecreated(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "overrides.d")
	require.NoError(t, os.Mkdir(dir, 0o755))
	changes := startWatch(t, dir)

	require.NoError(t, os.RemoveAll(dir))
	expectChange(t, changes)
	require.NoError(t, os.Mkdir(dir, 0o755))
	expectChange(t, changes) // re-watched
	proctest.WriteFile(t, filepath.Join(dir, "10-a.toml"), "x")
	expectChange(t, changes)
}

func TestWatchMissingDir(t *testing.T) {
	err := Watch(context.Background(), filepath.Join(t.TempDir(), "nope"), func() {})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "nope")
}

// TestWatchReportsModeChanges: the launcher refuses a group-writable
// snippet or directory and tells the user to `chmod go-w` it; that chmod
// alone must bring the reload, or the fix waits for an unrelated edit.
func TestWatchReportsModeChanges(t *testing.T) {
	dir := t.TempDir()
	snippet := filepath.Join(dir, "10-a.toml")
	proctest.WriteFile(t, snippet, "a")
	require.NoError(t, os.Chmod(snippet, 0o664))
	changes := startWatch(t, dir)

	require.NoError(t, os.Chmod(snippet, 0o644))
	expectChange(t, changes)
	require.NoError(t, os.Chmod(dir, 0o700))
	expectChange(t, changes)
}
