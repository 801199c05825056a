package patch

import (
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// Whoever can write a snippet controls the haproxy serve-launch starts, and
// haproxy can load Lua and run programs. So, like sshd's StrictModes, the
// overrides directory and every snippet it loads must be writable by their
// owner only, and owned by the user running serve-launch or by root.

// permChecker checks the ownership and mode of the overrides directory and
// its snippets.
type permChecker struct {
	uid int
	// readOnly reports whether path is on a read-only file system, where the
	// mode bits give no one write access (a Kubernetes ConfigMap volume is
	// mounted read-only, with a 0777 root directory).
	readOnly func(path string) bool
}

func newPermChecker(opt LoadOptions) *permChecker {
	pc := &permChecker{uid: os.Geteuid(), readOnly: opt.readOnly}
	if opt.UID != nil {
		pc.uid = *opt.UID
	}
	if pc.readOnly == nil {
		pc.readOnly = onReadOnlyFS
	}
	return pc
}

// onReadOnlyFS reports whether path is on a file system mounted read-only.
func onReadOnlyFS(path string) bool {
	var st syscall.Statfs_t
	if err := syscall.Statfs(path, &st); err != nil {
		return false
	}
	return st.Flags&stRDOnly != 0
}

// stRDOnly is ST_RDONLY of statfs(2)'s f_flags.
const stRDOnly = 1

// checkDir checks the overrides directory itself (following a symlink to it).
func (pc *permChecker) checkDir(dir string) *Error {
	st, err := os.Stat(dir)
	if err != nil {
		return nil // LoadDir reports a missing directory in its own words
	}
	return pc.check(dir, "overrides directory", st)
}

// checkFile checks the snippet dir/name, following symlinks: the file it
// resolves to, and every directory the symlinks lead through inside the
// overrides directory (a ConfigMap mount: NAME -> ..data/NAME, ..data ->
// ..2024_01_01_00_00_00.123). A symlink's own mode means nothing; whoever
// could replace it can write the directory holding it, which is checked.
func (pc *permChecker) checkFile(dir, name string) *Error {
	path := filepath.Join(dir, name)
	lst, err := os.Lstat(path)
	if err != nil {
		return nil // LoadDir reports it
	}
	if lst.Mode()&os.ModeSymlink == 0 {
		return pc.check(path, "snippet", lst)
	}
	target, err := filepath.EvalSymlinks(path)
	if err != nil {
		return nil // a dangling link: LoadDir reports it
	}
	st, err := os.Stat(target)
	if err != nil {
		return nil
	}
	if err := pc.check(target, fmt.Sprintf("snippet %s (via the symlink %s)", target, path), st); err != nil {
		return err
	}
	root, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return nil
	}
	parent := filepath.Dir(target)
	rel, err := filepath.Rel(root, parent)
	if err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
		// Outside the overrides directory: its own directory decides who
		// can replace it.
		return pc.checkPath(parent, fmt.Sprintf("directory of the snippet %s (via the symlink %s)", target, path))
	}
	for d := parent; d != root && len(d) > len(root); d = filepath.Dir(d) {
		if err := pc.checkPath(d, fmt.Sprintf("directory %s (the symlink %s leads through it)", d, path)); err != nil {
			return err
		}
	}
	return nil
}

func (pc *permChecker) checkPath(path, what string) *Error {
	st, err := os.Stat(path)
	if err != nil {
		return nil
	}
	return pc.check(path, what, st)
}

// check refuses st when it is writable by group or others, or owned by a
// user other than pc.uid and root.
func (pc *permChecker) check(path, what string, st os.FileInfo) *Error {
	sys, ok := st.Sys().(*syscall.Stat_t)
	if !ok {
		return nil
	}
	uid := int(sys.Uid)
	mode := st.Mode().Perm()
	if mode&0o022 != 0 && !pc.readOnly(path) {
		return Errorf(Position{File: path},
			"refusing the %s: it is writable by group or others (mode %04o, owner %s), and whoever can write it controls haproxy; fix: chmod go-w %s (or run with --insecure-overrides)",
			what, mode, userName(uid), path)
	}
	if uid != 0 && uid != pc.uid {
		return Errorf(Position{File: path},
			"refusing the %s: it is owned by %s, not by %s or root, and whoever owns it controls haproxy; fix: chown %d %s (or run with --insecure-overrides)",
			what, userName(uid), userName(pc.uid), pc.uid, path)
	}
	return nil
}

// userName gives "uid 1000 (alice)", or "uid 1000" for an unknown user.
func userName(uid int) string {
	s := "uid " + strconv.Itoa(uid)
	if u, err := user.LookupId(strconv.Itoa(uid)); err == nil && u.Username != "" {
		s += " (" + u.Username + ")"
	}
	return s
}
