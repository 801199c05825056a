//go:build linux

package hotreload

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/serve-launch/serve-launch/internal/admin"
	"github.com/serve-launch/serve-launch/internal/proc/procfs"
	"github.com/serve-launch/serve-launch/internal/proc/shim"
	"github.com/serve-launch/serve-launch/internal/proc/state"
)

// Bounds for one instance's hot reload.
const (
	// reloadConfirmTimeout bounds the wait for the new worker after SIGUSR2.
	reloadConfirmTimeout = 10 * time.Second
)

// ReloadReport says what [ReloadAll] did to each instance.
type ReloadReport struct {
	Instances []ReloadResult `json:"instances"`
}

// ReloadResult is the outcome for one instance.
type ReloadResult struct {
	ID        string `json:"id"`
	Generated string `json:"generated"`
	MasterPID int    `json:"master_pid"`
	// Outcome is "reloaded", "unchanged", "skipped", "pruned" or "failed".
	Outcome string `json:"outcome"`
	// Detail explains a skip or failure.
	Detail string `json:"detail,omitempty"`
	// OldWorkers and NewWorkers are the master's children before the reload
	// and the new worker(s) after it.
	OldWorkers []int `json:"old_workers,omitempty"`
	NewWorkers []int `json:"new_workers,omitempty"`
	// ServerStateSaved is the file `show servers state` was saved to.
	ServerStateSaved string `json:"server_state_saved,omitempty"`
	// NotTaken says haproxy was signalled but did not take the candidate,
	// which `haproxy -c` had accepted: it failed at run time (a bind on an
	// address in use, say). Snippets are the candidate's snippet files and
	// Running those haproxy runs, so that a caller can tell which changed.
	NotTaken bool            `json:"not_taken,omitempty"`
	Snippets []state.Snippet `json:"-"`
	Running  []state.Snippet `json:"-"`
}

// Outcomes of [ReloadResult].
const (
	OutcomeReloaded  = "reloaded"
	OutcomeUnchanged = "unchanged"
	OutcomeSkipped   = "skipped"
	OutcomePruned    = "pruned"
	OutcomeFailed    = "failed"
)

// ReloadAll re-patches every live haproxy recorded in the state directory
// from the latest generated file and reloads it gracefully. For each
// instance whose master is alive and really is haproxy running its patched
// file (checked through /proc/PID/cmdline, so a recycled PID is never
// signalled): read the generated file under Ray's lock, patch it, check the
// candidate with `<real haproxy> -c` (a candidate that fails never replaces
// the running config), save `show servers state` to the configured
// server-state file (Ray's config loads it with load-server-state-from-file,
// so servers keep their runtime state), write patched.cfg atomically, send
// SIGUSR2 to the master and wait, bounded, for its new worker. An unchanged
// patched file is not reloaded; a failure on record is then cleared.
// Instances whose master is dead are pruned (except failed starts, kept for
// status). The error joins every instance's
// failure; the report has them all.
//
// scope limits the reload to the haproxy a caller may patch: several
// launchers can share a state directory, and snippets applied to a haproxy
// another launcher started (with its own overrides.d and environment) would
// give it a config its own shim would undo at Ray's next reload.
func ReloadAll(ctx context.Context, s *state.StateDir, patcher shim.Patcher, scope ReloadScope) (ReloadReport, error) {
	var rep ReloadReport
	dirs, err := s.InstanceDirs()
	if err != nil {
		return rep, err
	}
	var errs []error
	for _, dir := range dirs {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		res, err := reloadOne(ctx, s, dir, patcher, scope)
		if res.ID == "" {
			continue
		}
		rep.Instances = append(rep.Instances, res)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s (master %d): %w", res.Generated, res.MasterPID, err))
		}
	}
	return rep, errors.Join(errs...)
}

// ReloadScope picks the instances a hot reload may touch; its zero value
// takes every one.
type ReloadScope struct {
	// LauncherPID, when not 0, takes only the haproxy started under that
	// `serve-launch run` (the record's LauncherPID). Others are left out of
	// the report altogether, dead ones included: they are another
	// launcher's to reload and prune.
	LauncherPID int
}

// takes reports whether scope lets a reload touch rec.
func (scope ReloadScope) takes(rec *state.Instance) bool {
	return scope.LauncherPID == 0 || rec.LauncherPID == scope.LauncherPID
}

// reloadStartWait bounds how long a hot reload waits for a master still
// starting (see shim.WaitStarted), holding the instance lock.
const reloadStartWait = state.LockWait / 2

func reloadOne(ctx context.Context, s *state.StateDir, dir string, patcher shim.Patcher, scope ReloadScope) (ReloadResult, error) {
	// The instance lock keeps a shim from rewriting the same files meanwhile;
	// the shim holds it until its exec.
	unlock, err := s.LockInstance(dir, state.LockWait, false)
	if errors.Is(err, state.ErrInstanceGone) {
		// Pruned by another reload meanwhile: nothing is left to reload.
		return ReloadResult{}, nil
	}
	if err != nil {
		return ReloadResult{ID: filepath.Base(dir), Outcome: OutcomeFailed, Detail: err.Error()}, err
	}
	locked := true
	defer func() {
		if locked {
			unlock()
		}
	}()
	rec, err := s.LoadInstance(dir)
	if err != nil {
		return ReloadResult{ID: filepath.Base(dir), Outcome: OutcomeFailed, Detail: err.Error()}, err
	}
	if rec == nil {
		// No record: the shim only ran a check (-c) here, or failed before
		// saving one. ReloadAll leaves the empty result out of its report.
		return ReloadResult{}, nil
	}
	res := ReloadResult{ID: rec.ID, Generated: rec.Generated, MasterPID: rec.MasterPID}
	if !scope.takes(rec) {
		return ReloadResult{}, nil
	}

	// The shim's lock is free from the moment its exec begins, while the
	// process's command line still reads empty: wait that moment out, so
	// that a haproxy Ray has just started is not taken for a stranger.
	args := procfs.ExecdArgs(rec.MasterPID)
	if !procfs.NamesAny(args, rec.Running) {
		if procfs.Alive(rec.MasterPID) {
			// Alive but not running our file: a recycled PID, or an exec
			// that outlasted procfs.ExecWindow. Never signal it, and keep the
			// record rather than lose track of a haproxy that may still be
			// ours.
			res.Outcome = OutcomeSkipped
			res.Detail = fmt.Sprintf("PID %d does not run %v (its command line: %q)", rec.MasterPID, rec.Running, strings.Join(args, " "))
			return res, nil
		}
		if ev, err := state.ReadEvents(dir); err == nil && ev.Start.Result == state.ResultStarting {
			// A shim died before exec (wedged): status must go on saying so.
			res.Outcome, res.Detail = OutcomeSkipped, "its last start never ran haproxy (see serve-launch status)"
			return res, nil
		}
		// Removed under the lock: a shim waiting for it then finds its lock
		// file gone and makes the directory anew (see LockInstance), rather
		// than take the lock in between and lose its files to the removal.
		if err := os.RemoveAll(dir); err != nil {
			res.Outcome, res.Detail = OutcomeFailed, err.Error()
			return res, err
		}
		res.Outcome, res.Detail = OutcomePruned, "master is not running"
		return res, nil
	}
	if len(rec.Files) == 0 || rec.Patched == "" || !slices.Equal(rec.Running, patchedPaths(rec)) {
		res.Outcome, res.Detail = OutcomeSkipped, "runs Ray's file itself (its patched copy could not be written at its start); Ray's next reload brings the overrides"
		return res, nil
	}

	// commit saves the record and then the event slot's word on this hot
	// reload, which also says whether the record could be written.
	commit := func(result, detail string) error {
		if ev, err := state.ReadEvents(dir); err == nil {
			rec.Seq = ev.Seq + 1
		}
		recErr := s.SaveInstance(dir, rec)
		_, err := state.UpdateEvents(dir, func(e *state.Events) {
			e.HotReload = state.Event{At: time.Now().UTC(), Kind: state.EventHotReload, PID: os.Getpid(), Result: result, Error: detail}
			e.Count(state.EventHotReload, result)
			if result == state.ResultPatched {
				e.LastOK = e.HotReload.At
			}
			e.RecordError = ""
			if recErr != nil {
				e.RecordError = recErr.Error()
			}
		})
		return errors.Join(recErr, err)
	}
	fail := func(err error) (ReloadResult, error) {
		res.Outcome, res.Detail = OutcomeFailed, err.Error()
		rec.LastError = err.Error()
		if cerr := commit(state.ResultFailed, err.Error()); cerr != nil {
			err = errors.Join(err, cerr)
		}
		return res, err
	}

	// Patch every file from the latest generated copy, as the shim would.
	var results []shim.PatchResult
	for i, f := range rec.Files {
		data, err := state.ReadLocked(f.Generated)
		if err != nil {
			return fail(err)
		}
		results = append(results, patcher(ctx, shim.PatchRequest{Name: f.Generated, Generated: data,
			Scratch: filepath.Join(dir, state.Numbered(state.CheckFile, i)), HAProxy: rec.RealHAProxy}))
	}
	// A hot reload is all or nothing: it changes haproxy only when every
	// snippet applies, and otherwise reports and keeps what runs. (The
	// shim, at Ray's starts and reloads, leaves a failing file out instead,
	// because a start Ray makes must not fail; see shim.Patcher.)
	if msg := refusal(results); msg != "" {
		return fail(errors.New(msg))
	}
	// The shim named the patched copies state.Numbered(state.PatchedFile, i) in this
	// directory (Files[i].Patched), the files the master re-reads on SIGUSR2.
	changed := false
	var running [][]byte // what the master runs, when every copy reads
	for i, r := range results {
		// A copy that cannot be read is rewritten like a changed one.
		cur, err := s.ReadFile(dir, state.Numbered(state.PatchedFile, i))
		if err != nil || !bytes.Equal(cur, r.Bytes()) {
			changed = true
		}
		if err == nil && (i == 0 || running != nil) {
			running = append(running, cur)
		} else {
			running = nil
		}
	}
	// what the record says of the snippets once these results run.
	adopt := func() {
		rec.Snippets, rec.Quarantined, rec.Unpatched = nil, nil, ""
		for _, r := range results {
			r.Fill(rec)
		}
		rec.Result = shim.ResultOf(results)
		rec.LastError = shim.ErrorOf(results)
		rec.PatchedAt = time.Now().UTC()
	}
	if !changed {
		res.Outcome = OutcomeUnchanged
		if rec.Result != shim.ResultOf(results) || rec.LastError != shim.ErrorOf(results) {
			// haproxy already runs what these overrides make of Ray's latest
			// file; what the record says of them is brought up to date.
			res.Detail = "already runs these overrides; its record is brought up to date"
			if rec.LastError != "" && shim.ErrorOf(results) == "" {
				res.Detail = "already runs these overrides; the failure on record is cleared"
			}
			adopt()
			// Nothing was reloaded: the event (and its count, and status's
			// "last hot reload") says unchanged, and the time every snippet
			// was last put in force stays.
			if err := commit(state.ResultUnchanged, shim.ErrorOf(results)); err != nil {
				res.Outcome, res.Detail = OutcomeFailed, err.Error()
				return res, err
			}
		}
		return res, nil
	}

	// A master still starting (Ray's reload exec'd it a moment ago) may not
	// handle SIGUSR2 yet, whose default action ends it; nothing is written
	// until it is up. The wait holds the instance lock, which the next shim
	// waits up to state.LockWait for; it adds at most half of that to a reload's
	// own time under the lock (haproxy -c, show servers state).
	exe, _ := procfs.SelfExe() // unknown: no process is taken for a shim
	if _, late := shim.WaitStarted([]int{rec.MasterPID}, rec.Running, exe, reloadStartWait); len(late) > 0 || !procfs.WaitCatches(rec.MasterPID, syscall.SIGUSR2, reloadStartWait) {
		return fail(fmt.Errorf("haproxy master %d is still starting after %s; not reloaded, run the reload again", rec.MasterPID, reloadStartWait))
	}
	var patched [][]byte
	for _, r := range results {
		patched = append(patched, r.Bytes())
	}
	for _, r := range results {
		if r.Checked == "" {
			// The patcher could not run haproxy -c: nothing unchecked
			// replaces what the master runs.
			return fail(fmt.Errorf("the candidate could not be checked with haproxy -c (%s); running config left unchanged", r.CheckError))
		}
	}

	// Save the servers' runtime state where the new worker will load it.
	facts := shim.MergeFacts(results)
	if facts.AdminSocket != "" && facts.ServerStateFile != "" {
		sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		servers, err := admin.ShowServersState(sctx, facts.AdminSocket)
		cancel()
		if err != nil {
			return fail(fmt.Errorf("save server state: %w", err))
		}
		if err := state.WriteAtomic(facts.ServerStateFile, []byte(servers), 0o644); err != nil {
			return fail(fmt.Errorf("save server state: %w", err))
		}
		res.ServerStateSaved = facts.ServerStateFile
	}

	if _, err := s.WriteNumbered(dir, state.PatchedFile, patched); err != nil {
		return fail(err)
	}
	// notTaken is fail once the master may not have taken the copies just
	// written: they go back to what it runs, or the next reload with these
	// overrides would find them unchanged and take them for running. Copies
	// a shim has written since are left alone.
	notTaken := func(err error) (ReloadResult, error) {
		res.NotTaken, res.Running = true, rec.Snippets
		for _, r := range results {
			res.Snippets = append(res.Snippets, r.Snippets...)
		}
		ours := running != nil
		for i := range patched {
			if cur, rerr := s.ReadFile(dir, state.Numbered(state.PatchedFile, i)); rerr != nil || !bytes.Equal(cur, patched[i]) {
				ours = false
			}
		}
		if ours {
			if _, werr := s.WriteNumbered(dir, state.PatchedFile, running); werr != nil {
				err = errors.Join(err, werr)
			}
		}
		return fail(err)
	}
	// Make room in the output pipes Ray never reads before haproxy writes
	// this reload's messages (see drainPipes).
	// Without shim.log the drained output is dropped: emptying the pipes
	// is what matters, not keeping haproxy's NOTICE lines.
	logw := io.Discard
	if lf, err := s.OpenLog(dir, true); err == nil {
		defer lf.Close()
		logw = lf
	}
	drain := func() {
		if err := drainPipes(rec.MasterPID, logw); err != nil {
			state.LogLine(logw, "reload: %v", err)
		}
	}
	drain()
	old := procfs.Children(rec.MasterPID)
	res.OldWorkers = old
	if err := syscall.Kill(rec.MasterPID, syscall.SIGUSR2); err != nil {
		return notTaken(fmt.Errorf("signal master %d: %w", rec.MasterPID, err))
	}
	unlock()
	locked = false

	newWorkers, err := confirmReload(ctx, rec.MasterPID, old, facts.AdminSocket)
	res.NewWorkers = newWorkers
	drain()
	// Record it under the lock again. Without the lock the record is still
	// replaced atomically, but a shim may have written a newer one since:
	// a record whose master is no longer this one is left alone.
	unlock2, lerr := s.LockInstance(dir, state.LockWait, false)
	if lerr != nil {
		if err == nil {
			err = lerr
		}
		res.Outcome, res.Detail = OutcomeFailed, err.Error()
		return res, err
	}
	unlock, locked = unlock2, true
	if cur, cerr := s.LoadInstance(dir); cerr == nil && cur != nil && cur.MasterPID != rec.MasterPID {
		if err != nil {
			res.Outcome, res.Detail = OutcomeFailed, err.Error()
			return res, err
		}
		res.Outcome = OutcomeReloaded
		return res, nil
	}
	if err != nil {
		return notTaken(err)
	}
	// Only now is the candidate what the master runs: its listeners and
	// admin socket become the record's.
	adopt()
	rec.AdminSocket, rec.Listeners = facts.AdminSocket, facts.Listeners
	res.Outcome = OutcomeReloaded
	if err := commit(shim.ResultOf(results), shim.ErrorOf(results)); err != nil {
		// haproxy runs the new config; only its record is behind, which
		// the event slot tells status.
		res.Detail = err.Error()
		return res, err
	}
	return res, nil
}

// refusal says why results cannot replace what a haproxy runs, "" when they
// can.
func refusal(results []shim.PatchResult) string {
	var msgs []string
	for _, r := range results {
		for _, q := range r.Quarantined {
			msgs = append(msgs, q.Error)
		}
		if r.Unpatched != "" {
			msgs = append(msgs, r.Unpatched)
		}
	}
	return strings.Join(msgs, "\n")
}

func patchedPaths(rec *state.Instance) []string {
	var out []string
	for _, f := range rec.Files {
		out = append(out, f.Patched)
	}
	return out
}

// confirmReload waits until the master has a worker that was not there
// before SIGUSR2 and, when there is an admin socket, `show info` answers
// from a new worker.
func confirmReload(ctx context.Context, master int, old []int, sock string) ([]int, error) {
	deadline := time.Now().Add(reloadConfirmTimeout)
	for {
		if !procfs.Alive(master) {
			return nil, fmt.Errorf("master %d died during the reload", master)
		}
		var fresh []int
		for _, k := range procfs.Children(master) {
			if !slices.Contains(old, k) {
				fresh = append(fresh, k)
			}
		}
		if len(fresh) > 0 && (sock == "" || answersFrom(ctx, sock, fresh)) {
			return fresh, nil
		}
		if time.Now().After(deadline) {
			return fresh, fmt.Errorf("no new worker answered within %s after SIGUSR2 (see haproxy's output)", reloadConfirmTimeout)
		}
		select {
		case <-ctx.Done():
			return fresh, ctx.Err()
		case <-time.After(25 * time.Millisecond):
		}
	}
}

func answersFrom(ctx context.Context, sock string, pids []int) bool {
	ictx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	info, err := admin.ShowInfo(ictx, sock)
	if err != nil {
		return false
	}
	for _, p := range pids {
		if info["Pid"] == fmt.Sprint(p) {
			return true
		}
	}
	return false
}
