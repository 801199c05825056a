package proc

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Patcher turns a generated config into the patched one. name is the generated file's path
// (for messages). It returns an error naming the snippet file:line when patching fails.
type Patcher func(name string, generated []byte) ([]byte, error)

// What the shim does when patching fails (see the package documentation for
// the trade-off).
const (
	OnPatchErrorFail        = "fail"
	OnPatchErrorPassthrough = "passthrough"
)

// ShimConfig configures [RunShim].
type ShimConfig struct {
	// Argv is haproxy's argv as Ray passed it, without argv[0].
	Argv []string
	// RealHAProxy is the absolute path of the real haproxy binary; it must
	// not be this executable (see [ResolveRealHAProxy]).
	RealHAProxy string
	// StateDir receives the patched copies and instance.json.
	StateDir *StateDir
	// Patcher patches one generated file.
	Patcher Patcher
	// OnPatchError is [OnPatchErrorFail] (the default when empty) or
	// [OnPatchErrorPassthrough].
	OnPatchError string
	// NoMasterWorker turns off adding -W. By default the shim adds -W so
	// the PID Ray started is haproxy's master, which hot reload drives with
	// SIGUSR2.
	NoMasterWorker bool
	// OverridesDir is the snippet directory, recorded in instance.json.
	OverridesDir string
	// Snippets lists the snippet files Patcher applied, with their SHA-256,
	// as loaded; it is called after patching. When it is nil or returns
	// nil (loading the snippets failed, say), the *.toml files of
	// OverridesDir are hashed here instead.
	Snippets func() []Snippet
	// LauncherPID is the `serve-launch run` process, recorded so the launcher
	// can stop every haproxy started under it (0 when unknown).
	LauncherPID int
	// Log receives the shim's log lines. When nil, the shim appends to
	// shim.log in the instance directory; it never writes to stdout or
	// stderr, which Ray 2.55 does not drain.
	Log io.Writer
	// Env is the environment for the real haproxy; nil means os.Environ().
	Env []string
	// Exec replaces the process; nil means syscall.Exec. Tests inject a
	// recorder.
	Exec func(argv0 string, argv []string, env []string) error
}

// RunShim does the shim's work and execs the real haproxy; it only returns
// when something failed before or at exec. The caller prints the returned
// error to stderr (Ray shows that text when haproxy fails to start) and
// exits non-zero. Steps: parse argv; pass runs that load no configuration
// (-v, -vv, -h, ...) straight through; read each -f file under Ray's lock;
// patch it; write the patched copies into the state directory;
// record instance.json; exec `<real haproxy> -W <argv with -f PATCHED>`.
// argv[0] of the exec is the real haproxy's absolute path, because
// haproxy's master re-execs itself on SIGUSR2 through argv[0] and must not
// find the shim on PATH.
func RunShim(ctx context.Context, cfg ShimConfig) error {
	execFn := cfg.Exec
	if execFn == nil {
		execFn = execWithParentDeathSignal(os.Getppid())
	}
	env := cfg.Env
	if env == nil {
		env = os.Environ()
	}
	if cfg.RealHAProxy == "" {
		return fmt.Errorf("the real haproxy is not known (%s is not set)", EnvRealHAProxy)
	}
	real, err := filepath.Abs(cfg.RealHAProxy)
	if err != nil {
		return err
	}
	if self, err := IsSelf(real); err != nil {
		return fmt.Errorf("real haproxy %s: %w", real, cleanPathErr(err))
	} else if self {
		return fmt.Errorf("real haproxy %s is serve-launch itself; point %s or --haproxy at the haproxy binary", real, EnvRealHAProxy)
	}
	cfg.RealHAProxy = real
	switch cfg.OnPatchError {
	case "", OnPatchErrorFail, OnPatchErrorPassthrough:
	default:
		return fmt.Errorf("on-patch-error must be %q or %q, not %q", OnPatchErrorFail, OnPatchErrorPassthrough, cfg.OnPatchError)
	}

	args, err := ParseHAProxyArgs(cfg.Argv)
	if err != nil {
		return err
	}
	if args.NoConfig {
		return execHAProxy(execFn, real, cfg.Argv, env)
	}
	if cfg.StateDir == nil || cfg.Patcher == nil {
		return errors.New("StateDir and Patcher are required")
	}
	if err := ctx.Err(); err != nil {
		return err
	}

	var paths []string
	for _, c := range args.Configs {
		paths = append(paths, c.Path)
	}
	dir, err := cfg.StateDir.instanceDir(InstanceID(paths))
	if err != nil {
		return err
	}
	// A reload's haproxy starts only once the one it replaces is up (see
	// waitStarted), and before the lock: a predecessor still in its shim
	// needs the lock to get there. Waiting in Ray's -sf order also keeps
	// the shims of quick reloads in Ray's order, which the lock alone
	// (flock wakes waiters in no set order) does not.
	//
	// files are what a haproxy of this instance runs: Ray's files (after a
	// passthrough) or their patched copies.
	files := append([]string{}, paths...)
	for i := range paths {
		files = append(files, filepath.Join(dir, numbered(PatchedFile, i)))
	}
	oldPIDs := pidList(args.OldPIDs)
	var exe os.FileInfo // this executable, to tell a shim from a haproxy
	if len(oldPIDs) > 0 {
		exe, _ = selfExe() // unknown: no process is taken for a shim
	}
	var waited time.Duration
	var late []int
	if !args.Check && len(oldPIDs) > 0 {
		waited, late = waitStarted(oldPIDs, files, exe, StartWait)
	}
	// The lock comes first so that the log may be rotated under it; a lock
	// error is still logged, to a log left as it is.
	unlock, lockErr := cfg.StateDir.lockInstance(dir, LockWait, true)
	logw := cfg.Log
	if logw == nil {
		f, err := cfg.StateDir.OpenLog(dir, lockErr == nil)
		if err != nil {
			if lockErr == nil {
				unlock()
			}
			return errors.Join(lockErr, err)
		}
		defer f.Close()
		logw = f
	}
	logf := func(format string, a ...any) { logLine(logw, format, a...) }
	logf("invoked as haproxy %s", strings.Join(cfg.Argv, " "))
	if len(late) > 0 {
		logf("warning: haproxy %v still starting after %s; starting anyway", late, StartWait)
	} else if waited > 10*time.Millisecond {
		logf("waited %s for haproxy %s to finish starting", waited.Round(time.Millisecond), strings.Join(args.OldPIDs, " "))
	}
	if lockErr != nil {
		logf("error: %v", lockErr)
		return lockErr
	}
	defer unlock()
	// fail logs an error before returning it: Ray shows the shim's stderr
	// only when it notices a failed start, and shim.log is where the rest
	// of this start is told.
	fail := func(err error) error {
		if err != nil {
			logf("error: %v", err)
		}
		return err
	}

	generated, patched, perr := readAndPatch(paths, cfg.Patcher)

	if args.Check {
		// A check never touches the running instance's files or record.
		replace := map[string]string{}
		if perr == nil {
			checkPaths, err := cfg.StateDir.writeNumbered(dir, checkFile, patched)
			if err != nil {
				return fail(err)
			}
			for i, c := range args.Configs {
				replace[c.Path] = checkPaths[i]
			}
		} else if cfg.OnPatchError != OnPatchErrorPassthrough {
			return fail(perr)
		}
		argv := args.RewriteArgv(replace, false)
		logf("check: exec %s %s", real, strings.Join(argv, " "))
		unlock()
		return fail(execHAProxy(execFn, real, argv, env))
	}

	// The previous record matters only when this start fails and starts
	// nothing: the record stays the running haproxy's. Every other start
	// writes a record of its own, without decoding the old one.
	rec := &Instance{}
	if perr != nil && cfg.OnPatchError != OnPatchErrorPassthrough {
		prev, err := cfg.StateDir.loadInstance(dir)
		if err != nil {
			logf("warning: ignoring unreadable record: %v", err)
		}
		if prev != nil {
			*rec = *prev
		}
	}
	rec.ID, rec.Dir = filepath.Base(dir), dir
	rec.OverridesDir = cfg.OverridesDir
	rec.Snippets = nil
	if cfg.Snippets != nil {
		rec.Snippets = cfg.Snippets()
	}
	if rec.Snippets == nil {
		rec.Snippets = snippetDigests(cfg.OverridesDir)
	}
	rec.PatchedAt = time.Now().UTC()

	if perr != nil {
		rec.LastError = perr.Error()
		if cfg.OnPatchError != OnPatchErrorPassthrough {
			// The haproxy already running (if any) stays recorded and untouched.
			rec.Result = ResultPatchFailed
			if err := cfg.StateDir.saveInstance(dir, rec); err != nil {
				logf("warning: %v", err)
			}
			logf("error: %v; haproxy not started (on-patch-error=fail)", perr)
			return perr
		}
		logf("WARNING: %v", perr)
		logf("WARNING: on-patch-error=passthrough: running haproxy on the UNPATCHED generated file; your overrides do NOT apply and hot reload skips this instance until the next successful patch")
		argv := args.RewriteArgv(nil, !cfg.NoMasterWorker)
		argv = stopOlderMasters(argv, args.OldPIDs, oldPIDs, files, exe, logf)
		rec.Result = ResultPassthrough
		rec.Running = paths
		fillRecord(rec, cfg, args, argv, paths, nil, generated)
		if err := cfg.StateDir.saveInstance(dir, rec); err != nil {
			logf("warning: %v", err)
		}
		// The instance lock stays held until exec closes it (O_CLOEXEC). A
		// reload that takes it next may find this PID's command line empty
		// for a moment, mid-exec; execdArgs waits that out.
		logf("exec %s %s", real, strings.Join(argv, " "))
		return fail(execHAProxy(execFn, real, argv, env))
	}

	patchedPaths, err := cfg.StateDir.writeNumbered(dir, PatchedFile, patched)
	if err != nil {
		return fail(err)
	}
	replace := map[string]string{}
	for i, c := range args.Configs {
		replace[c.Path] = patchedPaths[i]
	}
	argv := args.RewriteArgv(replace, !cfg.NoMasterWorker)
	argv = stopOlderMasters(argv, args.OldPIDs, oldPIDs, files, exe, logf)
	rec.Result = ResultPatched
	rec.LastError = ""
	rec.Running = patchedPaths
	fillRecord(rec, cfg, args, argv, paths, patchedPaths, patched)
	if err := cfg.StateDir.saveInstance(dir, rec); err != nil {
		return fail(err)
	}
	logf("exec %s %s", real, strings.Join(argv, " "))
	return fail(execHAProxy(execFn, real, argv, env))
}

// logLine appends one line to a shim.log, stamped with the time and the
// writer's PID.
func logLine(w io.Writer, format string, a ...any) {
	fmt.Fprintf(w, "%s pid %d: %s\n", time.Now().UTC().Format(time.RFC3339Nano), os.Getpid(), fmt.Sprintf(format, a...))
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

// readAndPatch reads every configuration file under Ray's lock and patches
// each on its own: the shim's start and a hot reload alike.
func readAndPatch(paths []string, patch Patcher) (generated, patched [][]byte, err error) {
	for _, p := range paths {
		data, err := ReadLocked(p)
		if err != nil {
			return nil, nil, err
		}
		generated = append(generated, data)
	}
	for i, p := range paths {
		out, err := patch(p, generated[i])
		if err != nil {
			return generated, nil, err
		}
		patched = append(patched, out)
	}
	return generated, patched, nil
}

// fillRecord sets the fields of an instance record that describe the haproxy
// about to be exec'd.
func fillRecord(rec *Instance, cfg ShimConfig, args *HAProxyArgs, argv, generated, patchedPaths []string, running [][]byte) {
	rec.MasterPID = os.Getpid()
	rec.LauncherPID = cfg.LauncherPID
	rec.Argv = argv
	rec.RayArgv = args.Argv
	rec.RealHAProxy = cfg.RealHAProxy
	rec.Generated = absPath(generated[0])
	rec.Files = nil
	for i, g := range generated {
		fp := FilePair{Generated: absPath(g)}
		if i < len(patchedPaths) {
			fp.Patched = patchedPaths[i]
		}
		rec.Files = append(rec.Files, fp)
	}
	rec.Patched = rec.Files[0].Patched
	f := scanConfig(running...)
	rec.AdminSocket, rec.Listeners = f.adminSocket, f.listeners
}

func absPath(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}

// numbered gives the name of the i-th file of a kind: patched.cfg,
// patched-1.cfg, patched-2.cfg...
func numbered(name string, i int) string {
	if i == 0 {
		return name
	}
	ext := filepath.Ext(name)
	return strings.TrimSuffix(name, ext) + "-" + strconv.Itoa(i) + ext
}

func execHAProxy(execFn func(string, []string, []string) error, real string, argv, env []string) error {
	full := append([]string{real}, argv...)
	if err := execFn(real, full, env); err != nil {
		return fmt.Errorf("exec %s: %w", real, err)
	}
	return nil
}

// snippetDigests lists the *.toml files of dir but hidden ones in lexical
// order with their SHA-256, for status. Errors leave the list short: it is informational.
func snippetDigests(dir string) []Snippet {
	if dir == "" {
		return nil
	}
	names, err := filepath.Glob(filepath.Join(dir, "*.toml"))
	if err != nil {
		return nil
	}
	sort.Strings(names)
	var out []Snippet
	for _, n := range names {
		// Hidden files are no snippets (patch.LoadDir skips them); the
		// pattern's * matches a leading dot.
		if strings.HasPrefix(filepath.Base(n), ".") {
			continue
		}
		data, err := os.ReadFile(n)
		if err != nil {
			continue
		}
		sum := sha256.Sum256(data)
		out = append(out, Snippet{Name: filepath.Base(n), SHA256: hex.EncodeToString(sum[:])})
	}
	return out
}

// IsSelf reports whether path is the running executable (same device and
// inode after following symlinks), which would make the shim exec itself.
func IsSelf(path string) (bool, error) {
	st, err := os.Stat(path)
	if err != nil {
		return false, err
	}
	self, err := selfExe()
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
	if explicit != "" {
		p := explicit
		if !strings.Contains(p, "/") {
			found, err := lookPath(p, pathList, true)
			if err != nil {
				return "", err
			}
			p = found
		}
		p = absPath(p)
		if err := checkExecutable(p); err != nil {
			return "", err
		}
		if self, _ := IsSelf(p); self {
			return "", fmt.Errorf("haproxy %s is serve-launch itself", p)
		}
		return p, nil
	}
	return lookPath("haproxy", pathList, false)
}

func lookPath(name, pathList string, allowSelf bool) (string, error) {
	for _, d := range filepath.SplitList(pathList) {
		if d == "" {
			d = "."
		}
		p := absPath(filepath.Join(d, name))
		if checkExecutable(p) != nil {
			continue
		}
		if self, _ := IsSelf(p); self && !allowSelf {
			continue
		}
		return p, nil
	}
	return "", fmt.Errorf("%s not found on PATH (install haproxy or pass its path)", name)
}

func checkExecutable(p string) error {
	st, err := os.Stat(p)
	if err != nil {
		return fmt.Errorf("haproxy %s: %w", p, cleanPathErr(err))
	}
	if st.IsDir() || st.Mode().Perm()&0o111 == 0 {
		return fmt.Errorf("haproxy %s is not an executable file", p)
	}
	return nil
}
