package proc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/serve-launch/serve-launch/internal/admin"
)

// Bounds for one instance's hot reload.
const (
	// reloadCheckTimeout bounds `haproxy -c` on the candidate.
	reloadCheckTimeout = 15 * time.Second
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
// failure; the report has them all. snippets are the snippet files patcher
// applies, recorded with each reloaded instance; nil means hash the files of
// the instance's recorded overrides directory.
//
// scope limits the reload to the haproxy a caller may patch: several
// launchers can share a state directory, and snippets applied to a haproxy
// another launcher started (with its own overrides.d and environment) would
// give it a config its own shim would undo at Ray's next reload.
func ReloadAll(ctx context.Context, s *StateDir, patcher Patcher, snippets []Snippet, scope ReloadScope) (ReloadReport, error) {
	var rep ReloadReport
	dirs, err := s.instanceDirs()
	if err != nil {
		return rep, err
	}
	var errs []error
	for _, dir := range dirs {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		res, err := reloadOne(ctx, s, dir, patcher, snippets, scope)
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
func (scope ReloadScope) takes(rec *Instance) bool {
	return scope.LauncherPID == 0 || rec.LauncherPID == scope.LauncherPID
}

// reloadStartWait bounds how long a hot reload waits for a master still
// starting (see waitStarted), holding the instance lock.
const reloadStartWait = LockWait / 2

func reloadOne(ctx context.Context, s *StateDir, dir string, patcher Patcher, snippets []Snippet, scope ReloadScope) (ReloadResult, error) {
	// The instance lock keeps a shim from rewriting the same files meanwhile;
	// the shim holds it until its exec.
	unlock, err := s.lockInstance(dir, LockWait, false)
	if errors.Is(err, errInstanceGone) {
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
	rec, err := s.loadInstance(dir)
	if err != nil {
		return ReloadResult{ID: filepath.Base(dir), Outcome: OutcomeFailed, Detail: err.Error()}, err
	}
	if rec == nil {
		// No record: the shim only ran a check (-c) here, or failed before
		// saving one. ReloadAll
		// leaves the empty result out of its report.
		return ReloadResult{}, nil
	}
	res := ReloadResult{ID: rec.ID, Generated: rec.Generated, MasterPID: rec.MasterPID}
	if !scope.takes(rec) {
		return ReloadResult{}, nil
	}

	// The shim's lock is free from the moment its exec begins, while the
	// process's command line still reads empty: wait that moment out, so
	// that a haproxy Ray has just started is not taken for a stranger.
	args := execdArgs(rec.MasterPID)
	if !namesAny(args, rec.Running) {
		if rec.Result == ResultPatchFailed && rec.MasterPID == 0 {
			res.Outcome, res.Detail = OutcomeSkipped, "never started"
			return res, nil
		}
		if pidAlive(rec.MasterPID) {
			// Alive but not running our file: a recycled PID, or an exec
			// that outlasted execWindow. Never signal it, and keep the
			// record rather than lose track of a haproxy that may still be
			// ours.
			res.Outcome = OutcomeSkipped
			res.Detail = fmt.Sprintf("PID %d does not run %v (its command line: %q)", rec.MasterPID, rec.Running, strings.Join(args, " "))
			return res, nil
		}
		// Removed under the lock: a shim waiting for it then finds its lock
		// file gone and makes the directory anew (see lockInstance), rather
		// than take the lock in between and lose its files to the removal.
		if err := os.RemoveAll(dir); err != nil {
			res.Outcome, res.Detail = OutcomeFailed, err.Error()
			return res, err
		}
		res.Outcome, res.Detail = OutcomePruned, "master is not running"
		return res, nil
	}
	if rec.Result == ResultPassthrough || len(rec.Files) == 0 || rec.Patched == "" || !slices.Equal(rec.Running, patchedPaths(rec)) {
		res.Outcome, res.Detail = OutcomeSkipped, "runs the unpatched file (passthrough); it picks up the overrides at Ray's next reload"
		return res, nil
	}

	fail := func(err error) (ReloadResult, error) {
		res.Outcome, res.Detail = OutcomeFailed, err.Error()
		rec.Result, rec.LastError = ResultReloadFailed, err.Error()
		if serr := s.saveInstance(dir, rec); serr != nil {
			err = errors.Join(err, serr)
		}
		return res, err
	}

	// Patch every file from the latest generated copy.
	var sources []string
	for _, f := range rec.Files {
		sources = append(sources, f.Generated)
	}
	_, patched, err := readAndPatch(sources, patcher)
	if err != nil {
		return fail(err)
	}
	// The shim named the patched copies numbered(PatchedFile, i) in this
	// directory (Files[i].Patched), the files the master re-reads on SIGUSR2.
	changed := false
	var running [][]byte // what the master runs, when every copy reads
	for i := range rec.Files {
		// A copy that cannot be read is rewritten like a changed one.
		cur, err := s.ReadFile(dir, numbered(PatchedFile, i))
		if err != nil || !bytes.Equal(cur, patched[i]) {
			changed = true
		}
		if err == nil && (i == 0 || running != nil) {
			running = append(running, cur)
		} else {
			running = nil
		}
	}
	if !changed {
		res.Outcome = OutcomeUnchanged
		if rec.Result == ResultReloadFailed || rec.Result == ResultPatchFailed {
			// haproxy already runs what these overrides make of Ray's latest
			// file (the user put back what runs): the failure on record is
			// over, and status must stop reporting it.
			rec.Result, rec.LastError = ResultReloaded, ""
			res.Detail = "already runs these overrides; the failure on record is cleared"
			rec.Snippets = snippets
			if rec.Snippets == nil {
				rec.Snippets = snippetDigests(rec.OverridesDir)
			}
			if err := s.saveInstance(dir, rec); err != nil {
				res.Outcome, res.Detail = OutcomeFailed, err.Error()
				return res, err
			}
		}
		return res, nil
	}

	// A master still starting (Ray's reload exec'd it a moment ago) may not
	// handle SIGUSR2 yet, whose default action ends it; nothing is written
	// until it is up. The wait holds the instance lock, which the next shim
	// waits up to LockWait for; it adds at most half of that to a reload's
	// own time under the lock (haproxy -c, show servers state).
	exe, _ := selfExe() // unknown: no process is taken for a shim
	if _, late := waitStarted([]int{rec.MasterPID}, rec.Running, exe, reloadStartWait); len(late) > 0 {
		return fail(fmt.Errorf("haproxy master %d is still starting after %s; not reloaded, run the reload again", rec.MasterPID, reloadStartWait))
	}

	// Check the candidate before it can replace what the master re-reads.
	checkPaths, err := s.writeNumbered(dir, checkFile, patched)
	if err != nil {
		return fail(err)
	}
	checkArgs := []string{"-c"}
	for _, p := range checkPaths {
		checkArgs = append(checkArgs, "-f", p)
	}
	if err := checkConfig(ctx, rec.RealHAProxy, checkArgs); err != nil {
		return fail(err)
	}

	// Save the servers' runtime state where the new worker will load it.
	facts := scanConfig(patched...)
	if facts.adminSocket != "" && facts.serverStateFile != "" {
		sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		state, err := admin.ShowServersState(sctx, facts.adminSocket)
		cancel()
		if err != nil {
			return fail(fmt.Errorf("save server state: %w", err))
		}
		if err := writeAtomic(facts.serverStateFile, []byte(state), 0o644); err != nil {
			return fail(fmt.Errorf("save server state: %w", err))
		}
		res.ServerStateSaved = facts.serverStateFile
	}

	if _, err := s.writeNumbered(dir, PatchedFile, patched); err != nil {
		return fail(err)
	}
	// notTaken is fail once the master may not have taken the copies just
	// written: they go back to what it runs, or the next reload with these
	// overrides would find them unchanged and clear the failure as if
	// haproxy ran them. Copies a shim has written since are left alone.
	notTaken := func(err error) (ReloadResult, error) {
		ours := running != nil
		for i := range patched {
			if cur, rerr := s.ReadFile(dir, numbered(PatchedFile, i)); rerr != nil || !bytes.Equal(cur, patched[i]) {
				ours = false
			}
		}
		if ours {
			if _, werr := s.writeNumbered(dir, PatchedFile, running); werr != nil {
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
			logLine(logw, "reload: %v", err)
		}
	}
	drain()
	old := childPIDs(rec.MasterPID)
	res.OldWorkers = old
	if err := syscall.Kill(rec.MasterPID, syscall.SIGUSR2); err != nil {
		return notTaken(fmt.Errorf("signal master %d: %w", rec.MasterPID, err))
	}
	rec.Result, rec.LastError = ResultReloaded, ""
	rec.PatchedAt = time.Now().UTC()
	rec.Snippets = snippets
	if rec.Snippets == nil {
		rec.Snippets = snippetDigests(rec.OverridesDir)
	}
	rec.AdminSocket, rec.Listeners = facts.adminSocket, facts.listeners
	if err := s.saveInstance(dir, rec); err != nil {
		return fail(err)
	}
	unlock()
	locked = false

	newWorkers, err := confirmReload(ctx, rec.MasterPID, old, facts.adminSocket)
	res.NewWorkers = newWorkers
	drain()
	if err != nil {
		// Record it under the lock again; the files are already in place.
		// Without the lock the record is still replaced atomically, but a
		// shim may overwrite it: say so.
		unlock2, lerr := s.lockInstance(dir, LockWait, false)
		if lerr != nil {
			return fail(errors.Join(err, lerr))
		}
		unlock, locked = unlock2, true
		return notTaken(err)
	}
	res.Outcome = OutcomeReloaded
	return res, nil
}

func patchedPaths(rec *Instance) []string {
	var out []string
	for _, f := range rec.Files {
		out = append(out, f.Patched)
	}
	return out
}

// checkConfig runs `haproxy -c -q -f ...` and returns its alerts as the error.
func checkConfig(ctx context.Context, haproxy string, args []string) error {
	if haproxy == "" {
		return errors.New("instance record has no real haproxy path")
	}
	cctx, cancel := context.WithTimeout(ctx, reloadCheckTimeout)
	defer cancel()
	out, err := exec.CommandContext(cctx, haproxy, args...).CombinedOutput()
	if err != nil {
		// Keep the alerts; NOTICE and WARNING lines only bury them.
		var lines []string
		for _, l := range strings.Split(string(out), "\n") {
			if strings.Contains(l, "[ALERT]") {
				lines = append(lines, strings.TrimSpace(l)+writtenBy(l))
			}
		}
		msg := strings.Join(lines, "\n")
		if msg == "" {
			msg = strings.TrimSpace(string(out))
		}
		if msg == "" {
			msg = err.Error()
		}
		return fmt.Errorf("the patched config fails `haproxy -c`, running config left unchanged:\n%s", msg)
	}
	return nil
}

// alertLineRE finds the file:line haproxy names in an alert.
// Compiled on first use, since package init runs on every shim start.
var alertLineRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`parsing \[([^\]]+):(\d+)\]`) })

// writtenBy maps an alert's file:line to the snippet that wrote that line,
// using the line's "# serve-launch: FILE:LINE" provenance comment, so that a
// hot reload's refusal names the snippet as `serve-launch check` does. It is
// "" when the line came from Ray's file or provenance is off.
func writtenBy(alert string) string {
	m := alertLineRE().FindStringSubmatch(alert)
	if m == nil {
		return ""
	}
	data, err := os.ReadFile(m[1])
	if err != nil {
		return ""
	}
	n, _ := strconv.Atoi(m[2])
	lines := strings.Split(string(data), "\n")
	if n < 1 || n > len(lines) {
		return ""
	}
	if _, src, ok := strings.Cut(lines[n-1], "# serve-launch: "); ok {
		return " (line written by " + strings.TrimSpace(src) + ")"
	}
	return ""
}

// confirmReload waits until the master has a worker that was not there
// before SIGUSR2 and, when there is an admin socket, `show info` answers
// from a new worker.
func confirmReload(ctx context.Context, master int, old []int, sock string) ([]int, error) {
	deadline := time.Now().Add(reloadConfirmTimeout)
	for {
		if !pidAlive(master) {
			return nil, fmt.Errorf("master %d died during the reload", master)
		}
		var fresh []int
		for _, k := range childPIDs(master) {
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
