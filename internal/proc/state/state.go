//go:build linux

package state

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/serve-launch/serve-launch/internal/proc/procfs"
	"golang.org/x/sys/unix"
)

// EnvStateDir names the state directory ([DefaultStateDir] when unset): the
// launcher sets it for the shim, and the CLI reads it.
const EnvStateDir = "SERVE_LAUNCH_STATE_DIR"

// Names of the files in an instance directory.
const (
	PatchedFile  = "patched.cfg"
	ShimLogFile  = "shim.log"
	InstanceFile = "instance.json"
	// CheckFile is where `haproxy -c` runs and reload candidates go, so that
	// a check never overwrites the file a running master re-reads.
	CheckFile = "check.cfg"
	lockName  = "lock"
)

// DefaultStateDir is $SERVE_LAUNCH_STATE_DIR, else $XDG_RUNTIME_DIR/serve-launch,
// else /tmp/serve-launch-<uid>.
func DefaultStateDir() string {
	if d := os.Getenv(EnvStateDir); d != "" {
		return d
	}
	if d := os.Getenv("XDG_RUNTIME_DIR"); d != "" {
		return filepath.Join(d, "serve-launch")
	}
	return filepath.Join(os.TempDir(), "serve-launch-"+strconv.Itoa(os.Getuid()))
}

// StateDir is the launcher's private state directory: mode 0700, owned by
// the current user, never a symlink, with one subdirectory per generated
// configuration path. Nothing in it is opened through a symlink, and every
// file is replaced atomically, so a reader (status, a reload, haproxy's
// master re-reading patched.cfg) never sees a partial file.
type StateDir struct {
	path string
	uid  int
}

// OpenStateDir opens the state directory at path, creating it with mode 0700
// when missing. It refuses a directory that is a symlink, is not owned by the
// current user, or is writable by group or others, because the shim execs
// haproxy on files it finds there.
func OpenStateDir(path string) (*StateDir, error) {
	return openStateDir(path, os.Geteuid())
}

func openStateDir(path string, uid int) (*StateDir, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("state dir %s: %w", path, err)
	}
	// Every shim start opens the state dir: one lstat when it exists.
	err = checkPrivateDir(abs, uid)
	if errors.Is(err, os.ErrNotExist) {
		if err := os.MkdirAll(abs, 0o700); err != nil {
			return nil, fmt.Errorf("state dir %s: %w", abs, CleanPathErr(err))
		}
		err = checkPrivateDir(abs, uid)
	}
	if err != nil {
		return nil, err
	}
	return &StateDir{path: abs, uid: uid}, nil
}

// checkPrivateDir verifies that path is a real directory owned by uid and not
// writable by group or others.
func checkPrivateDir(path string, uid int) error {
	st, err := os.Lstat(path)
	if err != nil {
		return fmt.Errorf("state dir %s: %w", path, CleanPathErr(err))
	}
	if st.Mode()&os.ModeSymlink != 0 {
		return fmt.Errorf("state dir %s is a symlink; refusing to use it (remove it or choose another with %s)", path, EnvStateDir)
	}
	if !st.IsDir() {
		return fmt.Errorf("state dir %s is not a directory", path)
	}
	sys, ok := st.Sys().(*syscall.Stat_t)
	if ok && int(sys.Uid) != uid {
		return fmt.Errorf("state dir %s is owned by uid %d, not by the current user (uid %d); refusing to use it", path, sys.Uid, uid)
	}
	if st.Mode().Perm()&0o022 != 0 {
		return fmt.Errorf("state dir %s is writable by group or others (mode %04o); refusing to use it (chmod 700 it)", path, st.Mode().Perm())
	}
	return nil
}

// Path is the absolute path of the state directory.
func (s *StateDir) Path() string { return s.path }

// InstanceID names the instance directory for a set of generated
// configuration files: the first 16 hex digits of the SHA-256 of their
// absolute paths. Ray passes one file, so this is the hash of its path.
func InstanceID(configPaths []string) string {
	var abs []string
	for _, p := range configPaths {
		a, err := filepath.Abs(p)
		if err != nil {
			a = p
		}
		abs = append(abs, a)
	}
	sum := sha256.Sum256([]byte(strings.Join(abs, "\n")))
	return hex.EncodeToString(sum[:8])
}

// InstanceDir returns the directory of instance id, creating it (0700) when
// missing and checking it like the state directory itself.
func (s *StateDir) InstanceDir(id string) (string, error) {
	if id == "" || strings.ContainsAny(id, "/.") {
		return "", fmt.Errorf("bad instance id %q", id)
	}
	dir := filepath.Join(s.path, id)
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
		return "", fmt.Errorf("state dir: %w", err)
	}
	if err := checkPrivateDir(dir, s.uid); err != nil {
		return "", err
	}
	return dir, nil
}

// WriteFile atomically replaces dir/name (dir is an instance directory)
// with data: a new temp file in the same directory (O_EXCL|O_NOFOLLOW, mode
// 0600) swapped into place (see replace), without fsync (see writeAtomic).
// A symlink planted at dir/name is replaced, never followed.
func (s *StateDir) WriteFile(dir, name string, data []byte) error {
	if err := s.inside(dir); err != nil {
		return err
	}
	return WriteAtomic(filepath.Join(dir, name), data, 0o600)
}

// WriteFileFrom is WriteFile of what w writes, through a buffer: a large
// config is written out from its model without a copy of it in memory.
func (s *StateDir) WriteFileFrom(dir, name string, w io.WriterTo) error {
	if err := s.inside(dir); err != nil {
		return err
	}
	return writeAtomic(filepath.Join(dir, name), w, 0o600)
}

// WriteNumbered writes data[i] to the i-th file of kind in dir (see
// Numbered) and returns the files' paths.
func (s *StateDir) WriteNumbered(dir, kind string, data [][]byte) ([]string, error) {
	paths := make([]string, len(data))
	for i, d := range data {
		name := Numbered(kind, i)
		if err := s.WriteFile(dir, name, d); err != nil {
			return nil, err
		}
		paths[i] = filepath.Join(dir, name)
	}
	return paths, nil
}

// WriteAtomic writes data to target through a temporary file put in its
// place, so that a reader never sees a part of it.
func WriteAtomic(target string, data []byte, mode os.FileMode) error {
	return writeAtomic(target, bytes.NewReader(data), mode)
}

// WriteAtomicFrom is WriteAtomic of what w writes, through a 64 KiB buffer
// unless w is a *bytes.Reader, which writes in one call.
func WriteAtomicFrom(target string, w io.WriterTo, mode os.FileMode) error {
	return writeAtomic(target, w, mode)
}

func writeAtomic(target string, w io.WriterTo, mode os.FileMode) error {
	dir := filepath.Dir(target)
	var f *os.File
	var tmp string
	for i := 0; ; i++ {
		tmp = filepath.Join(dir, fmt.Sprintf(".%s.%d.%d.tmp", filepath.Base(target), os.Getpid(), time.Now().UnixNano()+int64(i)))
		var err error
		f, err = os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, mode)
		if err == nil {
			break
		}
		if !errors.Is(err, os.ErrExist) || i > 10 {
			return fmt.Errorf("write %s: %w", target, CleanPathErr(err))
		}
	}
	// No fsync: the state dir is runtime state (XDG_RUNTIME_DIR or /tmp) that
	// every haproxy start rewrites, and the rename alone keeps a reader from
	// ever seeing a partial file. fsyncs cost several ms of every Ray
	// start and reload on a busy disk, for durability nothing needs.
	var err error
	if _, direct := w.(*bytes.Reader); direct {
		_, err = w.WriteTo(f)
	} else {
		bw := bufio.NewWriterSize(f, 64<<10)
		if _, err = w.WriteTo(bw); err == nil {
			err = bw.Flush()
		}
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = replace(tmp, target)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", target, CleanPathErr(err))
	}
	return nil
}

// replace puts tmp in target's place atomically, as rename does, and removes
// what was there. It swaps the two with RENAME_EXCHANGE and unlinks the old
// file: ext4 (auto_da_alloc) starts writing a file back at once when it is
// renamed over an existing one, which made the shim's writes several times
// slower than the swap and unlink (BENCHMARKS.md, design notes). Where there is nothing
// to swap with (a first write) or the file system cannot swap, it renames.
func replace(tmp, target string) error {
	err := unix.Renameat2(unix.AT_FDCWD, tmp, unix.AT_FDCWD, target, unix.RENAME_EXCHANGE)
	switch {
	case err == nil:
		// tmp now holds the old content; a failure to remove it leaves
		// a stale temp file, which the next write does not trip on.
		os.Remove(tmp)
		return nil
	case errors.Is(err, unix.ENOENT), errors.Is(err, unix.EINVAL), errors.Is(err, unix.ENOSYS), errors.Is(err, unix.EOPNOTSUPP):
		return os.Rename(tmp, target)
	}
	return &os.LinkError{Op: "renameat2", Old: tmp, New: target, Err: err}
}

// ReadFile reads dir/name without following a symlink at name.
func (s *StateDir) ReadFile(dir, name string) ([]byte, error) {
	if err := s.inside(dir); err != nil {
		return nil, err
	}
	f, _, err := OpenNoFollow(filepath.Join(dir, name), os.O_RDONLY)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}

// OpenNoFollow opens a regular file without following a symlink in its last
// component and rejects anything else (a FIFO could block us forever). It
// returns the file's stat, which callers check further.
func OpenNoFollow(path string, flag int) (*os.File, os.FileInfo, error) {
	f, err := os.OpenFile(path, flag|syscall.O_NOFOLLOW|syscall.O_CLOEXEC|syscall.O_NONBLOCK, 0o600)
	if err != nil {
		if errors.Is(err, syscall.ELOOP) {
			return nil, nil, fmt.Errorf("%s is a symlink; refusing to follow it", path)
		}
		return nil, nil, fmt.Errorf("open %s: %w", path, CleanPathErr(err))
	}
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		f.Close()
		return nil, nil, fmt.Errorf("%s is not a regular file", path)
	}
	return f, st, nil
}

// MaxLogSize is the size past which shim.log is rotated: every haproxy
// start and every reload appends to it (and a reload adds what haproxy
// wrote to Ray's unread pipes), so on a busy cluster it would grow without
// bound in /tmp or, worse, in a tmpfs.
const MaxLogSize = 4 << 20

// OpenLog opens dir/shim.log for appending, without following symlinks.
// With rotate, a log past MaxLogSize first becomes shim.log.1 (replacing
// the one before): callers pass rotate only while they hold the instance
// lock, so two rotations never race. A writer that still has the old file
// open goes on appending to shim.log.1; nothing is lost but the older
// generation.
func (s *StateDir) OpenLog(dir string, rotate bool) (*os.File, error) {
	if err := s.inside(dir); err != nil {
		return nil, err
	}
	name := filepath.Join(dir, ShimLogFile)
	f, st, err := OpenNoFollow(name, os.O_WRONLY|os.O_APPEND|os.O_CREATE)
	if err != nil {
		return nil, err
	}
	if sys, ok := st.Sys().(*syscall.Stat_t); ok && int(sys.Uid) != s.uid {
		f.Close()
		return nil, fmt.Errorf("%s is not owned by the current user", f.Name())
	}
	if !rotate || st.Size() <= MaxLogSize {
		return f, nil
	}
	// rename never follows a symlink planted at either name: it replaces it.
	// A log that cannot be rotated is appended to, with the reason: never a
	// reason to fail a haproxy start.
	if err := os.Rename(name, name+".1"); err != nil {
		LogLine(f, "warning: rotate %s: %v", name, CleanPathErr(err))
		return f, nil
	}
	f.Close()
	return s.OpenLog(dir, false)
}

// inside checks that dir is a direct subdirectory of the state directory.
func (s *StateDir) inside(dir string) error {
	if filepath.Dir(filepath.Clean(dir)) != s.path {
		return fmt.Errorf("%s is not an instance directory of %s", dir, s.path)
	}
	return nil
}

// LockInstance takes the instance's own lock (exclusive), which serialises
// a shim writing patched.cfg with a hot reload doing the same.
//
// A hot reload removes a dead instance's directory while it holds this
// lock. With create set (the shim, which is about to start a haproxy here),
// a lock or directory found gone is made anew and taken again; without it
// (a reload), the error wraps ErrInstanceGone.
func (s *StateDir) LockInstance(dir string, wait time.Duration, create bool) (func(), error) {
	if err := s.inside(dir); err != nil {
		return nil, err
	}
	name := filepath.Join(dir, lockName)
	for attempt := 1; ; attempt++ {
		if st, err := os.Lstat(name); err == nil && !st.Mode().IsRegular() {
			return nil, fmt.Errorf("%s is not a regular file; refusing to use it", name)
		}
		f, err := LockFile(name, syscall.LOCK_EX, wait, nil)
		if err == nil {
			if stillAt(f, name) {
				return func() { f.Close() }, nil
			}
			f.Close()
			err = fmt.Errorf("lock %s: %w", name, errLockGone)
		}
		if !errors.Is(err, errLockGone) && !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
		// A prune is one removal; more in a row is not that race.
		if !create || attempt == 3 {
			return nil, fmt.Errorf("%w: %w", ErrInstanceGone, err)
		}
		if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
			return nil, err
		}
	}
}

// ErrInstanceGone says that an instance's directory was removed (pruned by
// a hot reload) while waiting for its lock.
var ErrInstanceGone = errors.New("the instance was removed")

// SaveInstance writes dir/instance.json atomically.
func (s *StateDir) SaveInstance(dir string, in *Instance) error {
	data, err := marshalInstance(in)
	if err != nil {
		return err
	}
	return s.WriteFile(dir, InstanceFile, append(data, '\n'))
}

// LoadInstance reads dir/instance.json; a missing file gives (nil, nil).
func (s *StateDir) LoadInstance(dir string) (*Instance, error) {
	data, err := s.ReadFile(dir, InstanceFile)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return nil, err
	}
	var in Instance
	if err := json.Unmarshal(data, &in); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, InstanceFile), err)
	}
	in.ID = filepath.Base(dir)
	in.Dir = dir
	return &in, nil
}

// InstanceDirs lists the instance directories, skipping anything that is not
// a real directory (a planted symlink is ignored, not followed).
func (s *StateDir) InstanceDirs() ([]string, error) {
	entries, err := os.ReadDir(s.path)
	if err != nil {
		return nil, fmt.Errorf("state dir %s: %w", s.path, CleanPathErr(err))
	}
	var dirs []string
	for _, e := range entries {
		if !e.IsDir() || e.Type()&os.ModeSymlink != 0 || e.Name() == "bin" || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		dirs = append(dirs, filepath.Join(s.path, e.Name()))
	}
	sort.Strings(dirs)
	return dirs, nil
}

// ShimDir creates `<state>/bin/haproxy`, a symlink to the shim binary, and
// returns `<state>/bin`: the directory the launcher puts first on PATH, for
// a Ray that runs plain `haproxy`.
func ShimDir(s *StateDir, shim string) (string, error) {
	bin := filepath.Join(s.path, "bin")
	if err := os.Mkdir(bin, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
		return "", fmt.Errorf("shim: %w", err)
	}
	if err := checkPrivateDir(bin, s.uid); err != nil {
		return "", err
	}
	link := filepath.Join(bin, "haproxy")
	if cur, err := os.Readlink(link); err == nil && cur == shim {
		return bin, nil
	}
	tmp := fmt.Sprintf("%s.%d.tmp", link, os.Getpid())
	os.Remove(tmp)
	if err := os.Symlink(shim, tmp); err != nil {
		return "", fmt.Errorf("shim: %w", err)
	}
	if err := os.Rename(tmp, link); err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("shim: %w", err)
	}
	return bin, nil
}

// launchersDir is where a launcher whose state directory is not the
// default one says so, in the default one: `status` without --state-dir
// then finds it.
const launchersDir = "launchers"

// RegisterLauncher records, in the default state directory, that the
// launcher pid uses s, unless s is the default. The returned func removes
// the record. Failing to record is not an error worth stopping Ray for:
// `status --state-dir` still works.
func RegisterLauncher(s *StateDir, pid int) func() {
	def, err := filepath.Abs(DefaultStateDir())
	if err != nil || def == s.path {
		return func() {}
	}
	d, err := OpenStateDir(def)
	if err != nil {
		return func() {}
	}
	dir := filepath.Join(d.path, launchersDir)
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
		return func() {}
	}
	name := filepath.Join(dir, strconv.Itoa(pid))
	if WriteAtomic(name, []byte(s.path+"\n"), 0o600) != nil {
		return func() {}
	}
	return func() { os.Remove(name) }
}

// KnownStateDirs is the default state directory and those of the running
// launchers recorded in it (see [RegisterLauncher]). Records of launchers
// that have exited are removed.
func KnownStateDirs() []string {
	def := DefaultStateDir()
	out := []string{def}
	dir := filepath.Join(def, launchersDir)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return out
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		name := filepath.Join(dir, e.Name())
		if !procfs.Alive(pid) {
			os.Remove(name)
			continue
		}
		data, err := os.ReadFile(name)
		if err != nil {
			continue
		}
		if p := strings.TrimSpace(string(data)); p != "" && !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}

// CleanPathErr drops the path from a *PathError, because our messages name
// the file already.
func CleanPathErr(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}
