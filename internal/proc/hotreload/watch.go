//go:build linux

package hotreload

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/serve-launch/serve-launch/internal/proc/state"
)

// WatchDebounce is how long [Watch] waits after the last change before it
// calls onChange: an editor's save or a ConfigMap update is several events
// in a few milliseconds, and one reload should follow them all.
const WatchDebounce = 200 * time.Millisecond

// watchRetry is how often Watch looks for the directory again after it was
// removed or renamed away.
const watchRetry = 250 * time.Millisecond

// Watch calls onChange (debounced by [WatchDebounce]) whenever an entry of
// dir is created, written, removed, renamed or changes mode or owner, until
// ctx ends; it returns nil then. Mode changes count because the overrides
// permission checks refuse a group-writable snippet and say to `chmod go-w`
// it: that chmod alone must bring the reload. It watches the directory
// itself rather than the files, so it keeps working when an editor saves by
// writing a temp file and renaming it over the old one, and when Kubernetes
// updates a ConfigMap volume by swapping the `..data` symlink (the files are
// symlinks through `..data`). When dir itself is removed or renamed, Watch
// waits for it to come back, watches it again and reports a change.
// onChange runs on Watch's goroutine, so calls never overlap.
func Watch(ctx context.Context, dir string, onChange func()) error {
	return watch(ctx, dir, WatchDebounce, onChange, nil)
}

// watch is Watch with the debounce and a hook that runs once the directory
// is being watched (tests start changing files only then).
func watch(ctx context.Context, dir string, debounce time.Duration, onChange, ready func()) error {
	dir = filepath.Clean(dir)
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("watch %s: %w", dir, err)
	}
	defer w.Close()
	if err := w.Add(dir); err != nil {
		return fmt.Errorf("watch %s: %w", dir, state.CleanPathErr(err))
	}
	if ready != nil {
		ready()
	}

	timer := time.NewTimer(time.Hour)
	timer.Stop()
	var retry <-chan time.Time // non-nil while dir is gone
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-w.Events:
			if !ok {
				return nil
			}
			if filepath.Clean(ev.Name) == dir && ev.Op&(fsnotify.Remove|fsnotify.Rename) != 0 {
				// The watch went with the directory; look for it again.
				w.Remove(dir)
				retry = time.After(watchRetry)
			}
			timer.Reset(debounce)
		case err, ok := <-w.Errors:
			if !ok {
				return nil
			}
			if errors.Is(err, fsnotify.ErrEventOverflow) {
				// Events were lost: assume something changed.
				timer.Reset(debounce)
				continue
			}
			return fmt.Errorf("watch %s: %w", dir, err)
		case <-retry:
			retry = nil
			if st, err := os.Stat(dir); err == nil && st.IsDir() {
				if err := w.Add(dir); err == nil {
					timer.Reset(debounce)
					continue
				}
			}
			retry = time.After(watchRetry)
		case <-timer.C:
			onChange()
		}
	}
}
