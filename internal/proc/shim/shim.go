//go:build linux

package shim

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/serve-launch/serve-launch/internal/execpath"
	"github.com/serve-launch/serve-launch/internal/patch/config"
	"github.com/serve-launch/serve-launch/internal/proc/procfs"
	"github.com/serve-launch/serve-launch/internal/proc/state"
)

// Patcher makes the configuration a haproxy runs from one generated file.
// It never fails: a snippet file that cannot apply is left out and named in
// the result, and when nothing can apply the result is the generated file as
// it is, with the reason. A start Ray makes must never fail because of a
// snippet (see [PatchResult]).
type Patcher func(ctx context.Context, req PatchRequest) PatchResult

// PatchRequest is one generated file to patch.
type PatchRequest struct {
	// Name is the generated file's path, for messages.
	Name string
	// Generated is its content, read under Ray's lock.
	Generated []byte
	// Scratch is a path in the instance directory where a candidate may be
	// written to run `haproxy -c` on it; it never is a file a haproxy runs.
	Scratch string
	// HAProxy is the real haproxy of the instance, which judges the
	// candidate; empty means the Patcher's own.
	HAProxy string
}

// PatchResult is what a [Patcher] made of one generated file.
type PatchResult struct {
	// Data is the configuration to run, unless File is set.
	Data []byte
	// File, when set, is the configuration to run as the patch engine's
	// model, which the shim writes out line by line (see [PatchResult.Bytes]):
	// rendered into one buffer first, a config of 16384 servers would be
	// in memory twice, and the shim keeps all it allocates until its exec.
	File io.WriterTo
	// Snippets are the snippet files in force in Data.
	Snippets []state.Snippet
	// Quarantined are the snippet files left out, each with its errors.
	Quarantined []state.QuarantinedSnippet
	// Unpatched, when not empty, says why Data is the generated file as it
	// is: no snippet applies.
	Unpatched string
	// Checked says how haproxy's acceptance of Data is known: "haproxy -c",
	// "cached" (an earlier -c of the same snippet lines) or "" (not checked).
	Checked string
	// CheckError says why haproxy could not judge Data (-c ran too long).
	CheckError string
	// Facts are Data's admin socket, server-state file and listeners,
	// read from the model the Patcher built (no second scan of the file).
	Facts config.Facts
}

// Bytes returns the configuration to run: Data, or File rendered.
func (r PatchResult) Bytes() []byte {
	if r.File == nil {
		return r.Data
	}
	var b bytes.Buffer
	_, _ = r.File.WriteTo(&b) // a bytes.Buffer does not fail
	return b.Bytes()
}

// hasConfig reports whether r holds a configuration to write.
func (r PatchResult) hasConfig() bool { return r.Data != nil || r.File != nil }

// writeTo writes r's configuration to dir/name in the state directory.
func (r PatchResult) writeTo(sd *state.StateDir, dir, name string) error {
	if r.File != nil {
		return sd.WriteFileFrom(dir, name, r.File)
	}
	return sd.WriteFile(dir, name, r.Data)
}

// Result is what the haproxy runs: every snippet, some, or none.
func (r PatchResult) Result() string {
	switch {
	case r.Unpatched != "":
		return state.ResultUnpatched
	case len(r.Quarantined) > 0:
		return state.ResultQuarantined
	}
	return state.ResultPatched
}

// ShimConfig configures [RunShim].
type ShimConfig struct {
	// Argv is haproxy's argv as Ray passed it, without argv[0].
	Argv []string
	// RealHAProxy is the absolute path of the real haproxy binary; it must
	// not be this executable (see [ResolveRealHAProxy]).
	RealHAProxy string
	// StateDir is where the state directory is ([state.DefaultStateDir] when
	// empty). It is opened, and made anew when it was removed, at each start.
	StateDir string
	// Patcher patches one generated file.
	Patcher Patcher
	// NoMasterWorker turns off adding -W. By default the shim adds -W so
	// the PID Ray started is haproxy's master, which hot reload drives with
	// SIGUSR2.
	NoMasterWorker bool
	// OverridesDir is the snippet directory, recorded in instance.json.
	OverridesDir string
	// InsecureOverrides is recorded in instance.json, for status.
	InsecureOverrides bool
	// LauncherPID is the `serve-launch run` process, recorded so the launcher
	// can stop every haproxy started under it (0 when unknown).
	LauncherPID int
	// Log receives the shim's log lines. When nil, the shim appends to
	// shim.log in the instance directory; it never writes to stdout, which
	// Ray 2.55 does not drain, and to stderr only when it has nowhere else.
	Log io.Writer
	// Stderr is where the shim writes when the state directory cannot be
	// used; nil means os.Stderr.
	Stderr io.Writer
	// Env is the environment for the real haproxy; nil means os.Environ().
	Env []string
	// Exec replaces the process; nil means syscall.Exec. Tests inject a
	// recorder.
	Exec func(argv0 string, argv []string, env []string) error
}

// RunShim does the shim's work and execs the real haproxy; it only returns
// when the exec itself failed, or haproxy cannot be run at all (the real
// binary is unknown, the argv names no readable file). The caller prints the
// returned error to stderr (Ray shows that text when haproxy fails to start)
// and exits non-zero.
//
// Everything else that goes wrong still ends in an exec of haproxy, because
// a start that fails can leave Ray tracking a dead process: Ray 2.55 takes
// the old haproxy answering `show info` for the new one being ready, adopts
// the shim's PID, and every later reload of Ray's then fails on that dead
// process until Serve restarts its proxy. So a snippet file that fails is
// left out (quarantined), and when nothing can be patched or written (a
// full disk, a state dir that cannot be made) haproxy runs Ray's generated
// file as it is. Each such start is recorded as degraded, with the reason.
//
// The steps, top to bottom: parse argv; wait for the haproxy Ray replaces to
// finish starting; lock the instance; read Ray's file under Ray's lock and
// patch it; write the patched copy and the record; exec `<real haproxy> -W
// <argv with -f PATCHED>`. argv[0] of the exec is the real haproxy's
// absolute path, because haproxy's master re-execs itself on SIGUSR2
// through argv[0] and must not find the shim on PATH.
func RunShim(ctx context.Context, cfg ShimConfig) error {
	sh, err := newShim(cfg)
	if err != nil {
		return err
	}
	args, err := ParseHAProxyArgs(cfg.Argv)
	if err != nil {
		return err
	}
	if args.NoConfig {
		return sh.exec(cfg.Argv)
	}
	var paths []string
	for _, c := range args.Configs {
		paths = append(paths, c.Path)
	}
	inst, err := sh.openInstance(paths)
	if err != nil {
		// Nowhere to write a patched copy: haproxy runs Ray's files as
		// they are, rather than not at all.
		sh.stderrf("warning: %v; running haproxy on Ray's config WITHOUT the overrides", err)
		return sh.exec(args.RewriteArgv(nil, !cfg.NoMasterWorker))
	}
	defer inst.close()
	if args.Check {
		return sh.check(ctx, inst, args, paths)
	}
	kind := inst.starting(args)
	inst.waitForPredecessor(args)
	inst.lock()
	return sh.start(ctx, inst, args, paths, kind)
}

// shim is one run of the shim.
type shim struct {
	cfg    ShimConfig
	real   string
	env    []string
	execFn func(string, []string, []string) error
}

func newShim(cfg ShimConfig) (*shim, error) {
	sh := &shim{cfg: cfg, env: cfg.Env, execFn: cfg.Exec}
	if sh.execFn == nil {
		sh.execFn = execWithParentDeathSignal(os.Getppid())
	}
	if sh.env == nil {
		sh.env = os.Environ()
	}
	if cfg.RealHAProxy == "" {
		return nil, fmt.Errorf("the real haproxy is not known (%s is not set)", EnvRealHAProxy)
	}
	real, err := filepath.Abs(cfg.RealHAProxy)
	if err != nil {
		return nil, err
	}
	if self, err := IsSelf(real); err != nil {
		return nil, fmt.Errorf("real haproxy %s: %w", real, state.CleanPathErr(err))
	} else if self {
		return nil, fmt.Errorf("real haproxy %s is serve-launch itself; point %s or --haproxy at the haproxy binary", real, EnvRealHAProxy)
	}
	sh.real = real
	if cfg.Patcher == nil {
		return nil, errors.New("a Patcher is required")
	}
	return sh, nil
}

func (sh *shim) exec(argv []string) error {
	return execHAProxy(sh.execFn, sh.real, argv, sh.env)
}

func (sh *shim) stderrf(format string, a ...any) {
	w := sh.cfg.Stderr
	if w == nil {
		w = os.Stderr
	}
	fmt.Fprintf(w, "serve-launch haproxy shim: "+format+"\n", a...)
}

// shimInstance is the instance directory of the configuration a start
// runs, while the shim works in it.
type shimInstance struct {
	sh       *shim
	sd       *state.StateDir
	dir      string
	files    []string // what a haproxy of this instance runs: Ray's files or their copies
	logw     io.Writer
	logFile  *os.File
	unlock   func()
	lockErr  error
	oldPIDs  []int
	exe      os.FileInfo // this executable, to tell a shim from a haproxy
	waitNote string
}

// openInstance opens the state directory (making it anew when a tmp cleaner
// removed it) and the instance directory of paths.
func (sh *shim) openInstance(paths []string) (*shimInstance, error) {
	dirPath := sh.cfg.StateDir
	if dirPath == "" {
		dirPath = state.DefaultStateDir()
	}
	sd, err := state.OpenStateDir(dirPath)
	if err != nil {
		return nil, err
	}
	dir, err := sd.InstanceDir(state.InstanceID(paths))
	if err != nil {
		return nil, err
	}
	in := &shimInstance{sh: sh, sd: sd, dir: dir}
	in.files = append([]string{}, paths...)
	for i := range paths {
		in.files = append(in.files, filepath.Join(dir, state.Numbered(state.PatchedFile, i)))
	}
	return in, nil
}

func (in *shimInstance) close() {
	if in.unlock != nil {
		in.unlock()
	}
	if in.logFile != nil {
		in.logFile.Close()
	}
}

// logf appends a line to shim.log (opened on first use).
func (in *shimInstance) logf(format string, a ...any) {
	if in.logw == nil {
		in.openLog()
	}
	state.LogLine(in.logw, format, a...)
}

func (in *shimInstance) openLog() {
	if w := in.sh.cfg.Log; w != nil {
		in.logw = w
		return
	}
	// Rotated only under the lock, so two rotations never race.
	f, err := in.sd.OpenLog(in.dir, in.unlock != nil)
	if err != nil {
		in.sh.stderrf("warning: %v", err)
		in.logw = io.Discard
		return
	}
	in.logFile, in.logw = f, f
}

// waitForPredecessor waits, bounded by [StartWait], until the haproxy Ray
// names after -sf has finished starting. It runs before the lock: a
// predecessor still in its shim needs the lock to get there. Waiting in
// Ray's -sf order also keeps the shims of quick reloads in Ray's order,
// which the lock alone (flock wakes waiters in no set order) does not.
func (in *shimInstance) waitForPredecessor(args *HAProxyArgs) {
	in.oldPIDs = pidList(args.OldPIDs)
	if len(in.oldPIDs) == 0 {
		return
	}
	in.exe, _ = procfs.SelfExe() // unknown: no process is taken for a shim
	waited, late := WaitStarted(in.oldPIDs, in.files, in.exe, StartWait)
	if len(late) > 0 {
		in.waitNote = fmt.Sprintf("warning: haproxy %v still starting after %s; starting anyway", late, StartWait)
	} else if waited > 10*time.Millisecond {
		in.waitNote = fmt.Sprintf("waited %s for haproxy %s to finish starting", waited.Round(time.Millisecond), strings.Join(args.OldPIDs, " "))
	}
}

// lock takes the instance lock, which a hot reload also takes, so the two
// never write patched.cfg at once. The wait is bounded: past it the start
// goes on unlocked, with a warning, because a start that waited for ever
// (or gave up) would leave Ray without its haproxy. A lock whose holder
// died is free: flock locks end with their process.
func (in *shimInstance) lock() {
	unlock, err := in.sd.LockInstance(in.dir, state.LockWait, true)
	if err != nil {
		in.lockErr = err
		return
	}
	in.unlock = unlock
}

// starting says in the event slot that this start is under way, and
// returns its kind. The slot says so until exec: found so with a dead PID,
// the shim died before haproxy ran (killed mid-patch, or while it waited),
// and Ray may track a dead process. It is written before any wait, so a
// shim killed while waiting is seen too; without the lock, a racing writer
// may lose an update of the slot, which is never torn for a reader.
func (in *shimInstance) starting(args *HAProxyArgs) string {
	kind := state.EventStart
	if len(args.OldPIDs) > 0 {
		kind = state.EventReload
	}
	if _, err := state.UpdateEvents(in.dir, func(e *state.Events) {
		e.Start = state.Event{At: time.Now().UTC(), Kind: kind, PID: os.Getpid(), RayPID: os.Getppid(), Result: state.ResultStarting}
	}); err != nil {
		in.sh.stderrf("warning: %v", err)
	}
	return kind
}

// start patches Ray's files, writes the copies and the record, and execs.
func (sh *shim) start(ctx context.Context, in *shimInstance, args *HAProxyArgs, paths []string, kind string) error {
	in.logf("invoked as haproxy %s", strings.Join(sh.cfg.Argv, " "))
	if in.waitNote != "" {
		in.logf("%s", in.waitNote)
	}
	if in.lockErr != nil {
		in.logf("warning: %v; going on without the instance lock", in.lockErr)
	}

	res := in.patch(ctx, paths)
	argv, running, err := in.write(args, res)
	if err != nil {
		in.logf("error: %v; running haproxy on Ray's config WITHOUT the overrides", err)
		res = unpatchedResult(res, fmt.Sprintf("the patched config could not be written: %v", err))
		for i := range res {
			res[i].Data, res[i].File = nil, nil // haproxy runs Ray's files themselves
		}
		argv, running = args.RewriteArgv(nil, !sh.cfg.NoMasterWorker), paths
	}
	argv = stopOlderMasters(argv, args.OldPIDs, in.oldPIDs, in.files, in.exe, in.logf)
	in.logResult(res)

	rec := &state.Instance{
		ID: filepath.Base(in.dir), Dir: in.dir,
		OverridesDir: sh.cfg.OverridesDir, InsecureOverrides: sh.cfg.InsecureOverrides,
		PatchedAt: time.Now().UTC(), Running: running,
	}
	for _, r := range res {
		r.Fill(rec)
	}
	fillRecord(rec, sh.cfg, sh.real, args, argv, paths, running, MergeFacts(res))
	in.record(kind, rec, res)
	in.logf("exec %s %s", sh.real, strings.Join(argv, " "))
	// The instance lock stays held until exec closes it (O_CLOEXEC). A
	// reload that takes it next may find this PID's command line empty for
	// a moment, mid-exec; procfs.ExecdArgs waits that out.
	err = sh.exec(argv)
	in.logf("error: %v", err)
	return err
}

// patch reads each of Ray's files under Ray's lock and patches it.
func (in *shimInstance) patch(ctx context.Context, paths []string) []PatchResult {
	out := make([]PatchResult, len(paths))
	for i, p := range paths {
		data, err := state.ReadLocked(p)
		if err != nil {
			// haproxy reads the file itself when it cannot be read here.
			out[i] = PatchResult{Unpatched: err.Error()}
			continue
		}
		out[i] = in.sh.cfg.Patcher(ctx, PatchRequest{Name: p, Generated: data, Scratch: filepath.Join(in.dir, state.Numbered(state.CheckFile, i))})
	}
	return out
}

// write writes the patched copies and returns haproxy's argv and the files
// it runs. A file that runs unpatched is given to haproxy as Ray wrote it.
func (in *shimInstance) write(args *HAProxyArgs, res []PatchResult) (argv, running []string, err error) {
	replace := map[string]string{}
	for i, r := range res {
		path := args.Configs[i].Path
		if !r.hasConfig() {
			// Ray's file could not be read here; haproxy reads it itself.
			running = append(running, path)
			continue
		}
		name := state.Numbered(state.PatchedFile, i)
		if err := r.writeTo(in.sd, in.dir, name); err != nil {
			return nil, nil, err
		}
		replace[path] = filepath.Join(in.dir, name)
		running = append(running, replace[path])
	}
	return args.RewriteArgv(replace, !in.sh.cfg.NoMasterWorker), running, nil
}

// unpatchedResult is res with every file running unpatched, for why.
func unpatchedResult(res []PatchResult, why string) []PatchResult {
	out := make([]PatchResult, len(res))
	for i := range res {
		out[i] = PatchResult{Unpatched: why}
	}
	return out
}

func (in *shimInstance) logResult(res []PatchResult) {
	for _, r := range res {
		for _, q := range r.Quarantined {
			in.logf("ERROR: snippet %s left out (quarantined), the other snippets apply:\n%s", q.Name, q.Error)
		}
		if r.Unpatched != "" {
			in.logf("WARNING: haproxy runs Ray's config WITHOUT the overrides: %s", r.Unpatched)
		}
		if r.CheckError != "" {
			in.logf("WARNING: haproxy runs snippet lines haproxy -c did not judge: %s", r.CheckError)
		}
	}
}

// record saves the instance record and then the event slot, which says
// whether the record could be written (a full disk cannot stop a start).
func (in *shimInstance) record(kind string, rec *state.Instance, res []PatchResult) {
	result := ResultOf(res)
	rec.Result, rec.LastError = result, ErrorOf(res)
	ev := state.Event{At: time.Now().UTC(), Kind: kind, PID: os.Getpid(), RayPID: os.Getppid(), Result: result, Error: rec.LastError}
	events, err := state.ReadEvents(in.dir)
	if err != nil {
		events = &state.Events{}
	}
	rec.Seq = events.Seq + 1
	recErr := in.sd.SaveInstance(in.dir, rec)
	if recErr != nil {
		in.logf("warning: %v", recErr)
	}
	if _, err := state.UpdateEvents(in.dir, func(e *state.Events) {
		e.Start = ev
		e.Count(kind, result)
		if result == state.ResultPatched {
			e.LastOK = ev.At
		}
		e.RecordError = ""
		if recErr != nil {
			e.RecordError = recErr.Error()
		}
	}); err != nil {
		in.logf("warning: %v", err)
	}
}

// ResultOf is the result of a start of several files: the worst of theirs.
func ResultOf(res []PatchResult) string {
	out := state.ResultPatched
	for _, r := range res {
		switch r.Result() {
		case state.ResultUnpatched:
			return state.ResultUnpatched
		case state.ResultQuarantined:
			out = state.ResultQuarantined
		}
	}
	return out
}

// ErrorOf joins the reasons of every file left out or unpatched.
func ErrorOf(res []PatchResult) string {
	var msgs []string
	for _, r := range res {
		for _, q := range r.Quarantined {
			msgs = append(msgs, q.Name+" quarantined: "+q.Error)
		}
		if r.Unpatched != "" {
			msgs = append(msgs, "unpatched: "+r.Unpatched)
		}
	}
	return strings.Join(msgs, "\n")
}

// MergeFacts merges the facts of a start's files, in load order: the first
// admin socket and server-state file, every listener. (Ray passes one file;
// a server-state-file relative to a server-state-base of another file is
// not resolved across files.)
func MergeFacts(res []PatchResult) config.Facts {
	var out config.Facts
	for _, r := range res {
		if out.AdminSocket == "" {
			out.AdminSocket = r.Facts.AdminSocket
		}
		if out.ServerStateFile == "" {
			out.ServerStateFile = r.Facts.ServerStateFile
		}
		out.Listeners = append(out.Listeners, r.Facts.Listeners...)
	}
	return out
}

// Fill sets what the results of a start's files say in rec.
func (r PatchResult) Fill(rec *state.Instance) {
	rec.Snippets = append(rec.Snippets, r.Snippets...)
	rec.Quarantined = append(rec.Quarantined, r.Quarantined...)
	if r.Unpatched != "" {
		rec.Unpatched = r.Unpatched
	}
}

// check patches Ray's files for `haproxy -c`, which never touches the
// running instance's files or record. Nobody tracks a check's process, so
// it may fail like any command.
func (sh *shim) check(ctx context.Context, in *shimInstance, args *HAProxyArgs, paths []string) error {
	replace := map[string]string{}
	for i, p := range paths {
		data, err := state.ReadLocked(p)
		if err != nil {
			return err
		}
		scratch := filepath.Join(in.dir, state.Numbered(state.CheckFile, i))
		r := sh.cfg.Patcher(ctx, PatchRequest{Name: p, Generated: data, Scratch: scratch})
		if len(r.Quarantined) > 0 {
			// Its error names the snippet's file:line already.
			return errors.New(r.Quarantined[0].Error)
		}
		if r.Unpatched != "" {
			return errors.New(r.Unpatched)
		}
		if err := r.writeTo(in.sd, in.dir, filepath.Base(scratch)); err != nil {
			return err
		}
		replace[p] = scratch
	}
	return sh.exec(args.RewriteArgv(replace, false))
}

// stopOlderMasters adds to a reload's -sf list every older haproxy master
// still running this instance's configuration (see olderMasters).
func stopOlderMasters(argv, sf []string, oldPIDs []int, files []string, exe os.FileInfo, logf func(string, ...any)) []string {
	if len(sf) == 0 {
		return argv
	}
	more := olderMasters(files, oldPIDs, exe)
	if len(more) > 0 {
		logf("older haproxy masters of this config still run besides -sf %s: %v; stopping them too", strings.Join(sf, " "), more)
	}
	return withMorePIDs(argv, more)
}

// fillRecord sets the fields of an instance record that describe the haproxy
// about to be exec'd.
func fillRecord(rec *state.Instance, cfg ShimConfig, real string, args *HAProxyArgs, argv, generated, running []string, f config.Facts) {
	rec.MasterPID = os.Getpid()
	rec.RayPID = os.Getppid()
	rec.LauncherPID = cfg.LauncherPID
	rec.Argv = argv
	rec.RayArgv = args.Argv
	rec.RealHAProxy = real
	rec.Generated = absPath(generated[0])
	rec.Files = nil
	for i, g := range generated {
		fp := state.FilePair{Generated: absPath(g)}
		if i < len(running) && running[i] != g {
			fp.Patched = running[i]
		}
		rec.Files = append(rec.Files, fp)
	}
	rec.Patched = rec.Files[0].Patched
	rec.AdminSocket, rec.Listeners = f.AdminSocket, f.Listeners
}

func absPath(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}

func execHAProxy(execFn func(string, []string, []string) error, real string, argv, env []string) error {
	full := append([]string{real}, argv...)
	if err := execFn(real, full, env); err != nil {
		return fmt.Errorf("exec %s: %w", real, err)
	}
	return nil
}

// IsSelf reports whether path is the running executable (same device and
// inode after following symlinks), which would make the shim exec itself.
func IsSelf(path string) (bool, error) {
	st, err := os.Stat(path)
	if err != nil {
		return false, err
	}
	self, err := procfs.SelfExe()
	if err != nil {
		return false, err
	}
	return os.SameFile(st, self), nil
}

// ResolveRealHAProxy finds the real haproxy: explicit when given (a path, or
// a name looked up in pathList), else the first `haproxy` in pathList (a
// PATH-style list) that is not this executable. The result is absolute and
// never serve-launch itself.
func ResolveRealHAProxy(explicit, pathList string) (string, error) {
	name, skip := explicit, func(p string) bool { self, _ := IsSelf(p); return self }
	if explicit != "" {
		skip = nil // a name the user gave is theirs, and checked below
	} else {
		name = "haproxy"
	}
	p, err := execpath.LookPath(name, pathList, skip)
	var pe *os.PathError
	switch {
	case errors.Is(err, execpath.ErrNotFound):
		return "", fmt.Errorf("%s not found on PATH (install haproxy or pass its path)", name)
	case errors.As(err, &pe):
		return "", fmt.Errorf("haproxy %s: %w", p, pe.Err)
	case err != nil:
		return "", fmt.Errorf("haproxy %w", err)
	}
	if self, _ := IsSelf(p); self {
		return "", fmt.Errorf("haproxy %s is serve-launch itself", p)
	}
	return p, nil
}
