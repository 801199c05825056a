//go:build linux

package state

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/serve-launch/serve-launch/internal/proc/procfs"
)

// Guard keeps what Ray needs of the state directory in place while the
// launcher runs, and watches the instances started under the launcher for
// states that need a person.
//
// A tmp cleaner may remove the state directory (it lives in /tmp when there
// is no XDG_RUNTIME_DIR). The guard holds a shared flock on the directory,
// which systemd-tmpfiles honours (it skips a directory locked so), and puts
// back within [GuardInterval] whatever was removed anyway: the directory,
// the `haproxy` link a Ray that runs plain `haproxy` finds first on PATH
// (without it, PATH would lead Ray to the next haproxy, running Ray's config
// without the overrides), and the records of the haproxy still running, so
// that status and hot reload keep knowing them. Ray's binary path does not
// depend on the directory at all (see [ChildEnv]).
type Guard struct {
	// State is the state directory, as the launcher opened it.
	State *StateDir
	// Shim is the shim binary the PATH link points to.
	Shim string
	// LauncherPID selects the instances watched: those started under this
	// launcher.
	LauncherPID int
	// Report is called when an instance turns wedged or dead, once per
	// start it concerns, and when the directory was made anew.
	Report func(msg string)
}

// GuardInterval is how often the guard looks at the shim link; the
// instances are looked at every fifth time.
const GuardInterval = 100 * time.Millisecond

// Run guards until ctx ends.
func (g *Guard) Run(ctx context.Context) {
	lock := g.lockDir()
	defer func() {
		if lock != nil {
			lock.Close()
		}
	}()
	seen := map[string]Instance{}   // the last record of each live instance
	reported := map[string]string{} // what was said of each instance
	tick := time.NewTicker(GuardInterval)
	defer tick.Stop()
	for n := 0; ; n++ {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if !g.linkInPlace() {
			if err := g.restore(seen); err != nil {
				g.report("the state dir %s was removed and could not be made anew: %v", g.State.Path(), err)
				continue
			}
			if lock != nil {
				lock.Close()
			}
			lock = g.lockDir()
			g.report("the state dir %s was removed (a tmp cleaner?); it is made anew, with the shim link and the records of %d running haproxy", g.State.Path(), len(seen))
		}
		g.remember(seen)
		if n%5 != 0 {
			continue
		}
		// The instances Status could read; one it could not is judged
		// at a later tick (status names the error to the user).
		insts, _ := Status(g.State)
		for _, in := range insts {
			if in.LauncherPID != g.LauncherPID {
				continue
			}
			key := in.State
			if in.LastStart != nil {
				key += " " + in.LastStart.At.String()
			}
			if (in.State == StateWedged || in.State == StateDead) && reported[in.ID] != key {
				reported[in.ID] = key
				g.report("haproxy of %s is %s: %s", in.Generated, in.State, in.StateDetail)
			}
		}
	}
}

func (g *Guard) report(format string, a ...any) {
	if g.Report != nil {
		g.Report(fmt.Sprintf(format, a...))
	}
}

// lockDir takes a shared flock on the state directory, which keeps
// systemd-tmpfiles from cleaning it; nil when it cannot.
func (g *Guard) lockDir() *os.File {
	f, err := os.Open(g.State.Path())
	if err != nil {
		return nil
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_SH|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil
	}
	return f
}

// linkInPlace reports whether the PATH link still leads to the shim.
func (g *Guard) linkInPlace() bool {
	target, err := os.Readlink(filepath.Join(g.State.Path(), "bin", "haproxy"))
	return err == nil && target == g.Shim
}

// remember keeps the latest record and event slot of every instance of
// this launcher whose haproxy runs, to write back should the directory be
// removed. It runs every tick, so that a record a shim wrote a moment
// before a removal is not lost, but decodes a record only when the event
// slot's Seq moved: every record written moves it (the record takes the
// slot's next Seq, then the slot is updated), and the slot is read
// without decoding.
func (g *Guard) remember(seen map[string]Instance) {
	dirs, err := g.State.InstanceDirs()
	if err != nil {
		return
	}
	for _, dir := range dirs {
		ev, evErr := ReadEvents(dir)
		if prev, ok := seen[filepath.Base(dir)]; ok && evErr == nil && prev.Seq == ev.Seq {
			continue
		}
		in, err := g.State.LoadInstance(dir)
		if err != nil || in == nil || in.LauncherPID != g.LauncherPID {
			continue
		}
		if prev, ok := seen[in.ID]; ok && prev.Seq == in.Seq && prev.MasterPID == in.MasterPID {
			continue
		}
		if !procfs.Runs(in.MasterPID, in.Running) {
			continue
		}
		if evErr == nil {
			in.live(ev)
		}
		seen[in.ID] = *in
	}
}

// restore makes the state directory and the shim link anew, and writes back
// the record of every instance seen whose haproxy still runs.
func (g *Guard) restore(seen map[string]Instance) error {
	s, err := OpenStateDir(g.State.Path())
	if err != nil {
		return err
	}
	if _, err := ShimDir(s, g.Shim); err != nil {
		return err
	}
	for id, in := range seen {
		if !procfs.Runs(in.MasterPID, in.Running) {
			delete(seen, id)
			continue
		}
		dir, err := s.InstanceDir(id)
		if err != nil {
			return err
		}
		if _, err := os.Lstat(filepath.Join(dir, InstanceFile)); err == nil {
			continue // a shim has written one since
		}
		rec := in
		rec.clearLive()
		if err := s.SaveInstance(dir, &rec); err != nil {
			return err
		}
		// A fresh slot at the record's Seq: the record is not stale.
		e := &Events{Seq: rec.Seq}
		if in.LastStart != nil {
			e.Start = *in.LastStart
		}
		if in.LastHotReload != nil {
			e.HotReload = *in.LastHotReload
		}
		if err := WriteSlot(filepath.Join(dir, EventsFile), e.encode()); err != nil {
			return err
		}
	}
	return nil
}

// clearLive zeroes the fields [Status] fills in, which a record on disk
// does not hold.
func (in *Instance) clearLive() {
	in.State, in.StateDetail, in.Alive, in.WorkerPIDs = "", "", false, nil
	in.LastStart, in.LastHotReload, in.RecordStale, in.RecordError = nil, nil, false, ""
}
