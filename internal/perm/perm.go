// Package perm refuses files that someone other than the user running
// serve-launch (or root) can change: override snippets, env files and the
// haproxy binary. Whoever can write one of them controls the haproxy
// serve-launch starts, and haproxy can load Lua and run programs. So, like
// sshd's StrictModes, each such file, and the directory holding it, must be
// writable by its owner only and owned by this user or by root.
package perm

import (
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// Checker checks the ownership and mode of files and directories.
type Checker struct {
	// UID is the user, besides root, who may own the files.
	UID int
	// ReadOnly reports whether path is on a read-only file system, where the
	// mode bits give no one write access (a Kubernetes ConfigMap volume is
	// mounted read-only, with a 0777 root directory). Nil means statfs(2).
	ReadOnly func(path string) bool
	// Escape is added after the fix in every message, such as "(or run with
	// --insecure-overrides)"; empty when the command offers no way around.
	Escape string
}

// New returns a Checker for this process's effective user, or for *uid when
// uid is not nil (tests).
func New(uid *int, escape string) *Checker {
	c := &Checker{UID: os.Geteuid(), Escape: escape}
	if uid != nil {
		c.UID = *uid
	}
	return c
}

// Problem is a refused path and the sentence that says why and how to fix it.
type Problem struct {
	Path string
	Msg  string
}

func (p *Problem) Error() string { return p.Path + ": " + p.Msg }

// Check refuses st, the file info of path, when it is writable by group or
// others, or owned by a user other than c.UID and root. what names the file
// in the message ("snippet", "env file", ...).
func (c *Checker) Check(path, what string, st os.FileInfo) *Problem {
	sys, ok := st.Sys().(*syscall.Stat_t)
	if !ok {
		return nil
	}
	uid := int(sys.Uid)
	mode := st.Mode().Perm()
	escape := ""
	if c.Escape != "" {
		escape = " " + c.Escape
	}
	if mode&0o022 != 0 && !c.readOnly(path) {
		return &Problem{Path: path, Msg: fmt.Sprintf(
			"refusing the %s: it is writable by group or others (mode %04o, owner %s), and whoever can write it controls haproxy; fix: chmod go-w %s%s",
			what, mode, UserName(uid), path, escape)}
	}
	if uid != 0 && uid != c.UID {
		return &Problem{Path: path, Msg: fmt.Sprintf(
			"refusing the %s: it is owned by %s, not by %s or root, and whoever owns it controls haproxy; fix: chown %d %s%s",
			what, UserName(uid), UserName(c.UID), c.UID, path, escape)}
	}
	return nil
}

func (c *Checker) readOnly(path string) bool {
	if c.ReadOnly != nil {
		return c.ReadOnly(path)
	}
	return onReadOnlyFS(path)
}

// CheckPath checks path, following symlinks; a path that cannot be
// stat'ed passes, for the caller to report in its own words.
func (c *Checker) CheckPath(path, what string) *Problem {
	st, err := os.Stat(path)
	if err != nil {
		return nil
	}
	return c.Check(path, what, st)
}

// CheckIn checks the file dir/name of a directory whose own mode the caller
// has checked (the overrides directory), following symlinks: the file it
// resolves to, and every directory the symlinks lead through inside dir (a
// ConfigMap mount: NAME -> ..data/NAME, ..data ->
// ..2024_01_01_00_00_00.123). A symlink's own mode means nothing; whoever
// could replace it can write the directory holding it, which is checked.
func (c *Checker) CheckIn(dir, name, what string) *Problem {
	path := filepath.Join(dir, name)
	lst, err := os.Lstat(path)
	if err != nil {
		return nil // the caller reports it
	}
	if lst.Mode()&os.ModeSymlink == 0 {
		return c.Check(path, what, lst)
	}
	target, err := filepath.EvalSymlinks(path)
	if err != nil {
		return nil // a dangling link: the caller reports it
	}
	st, err := os.Stat(target)
	if err != nil {
		return nil
	}
	if p := c.Check(target, fmt.Sprintf("%s %s (via the symlink %s)", what, target, path), st); p != nil {
		return p
	}
	root, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return nil
	}
	parent := filepath.Dir(target)
	rel, err := filepath.Rel(root, parent)
	if err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
		// Outside the directory: its own directory decides who can
		// replace it.
		return c.CheckPath(parent, fmt.Sprintf("directory of the %s %s (via the symlink %s)", what, target, path))
	}
	for d := parent; d != root && len(d) > len(root); d = filepath.Dir(d) {
		if p := c.CheckPath(d, fmt.Sprintf("directory %s (the symlink %s leads through it)", d, path)); p != nil {
			return p
		}
	}
	return nil
}

// CheckFile checks a file given on its own (an env file, a binary): the file
// it resolves to, the directory holding the path as given and the directory
// holding the file it resolves to. A directory with the sticky bit (/tmp)
// passes: there only a file's owner may replace or remove it.
func (c *Checker) CheckFile(path, what string) *Problem {
	target, err := filepath.EvalSymlinks(path)
	if err != nil {
		return nil // the caller reports a file it cannot read
	}
	st, err := os.Stat(target)
	if err != nil {
		return nil
	}
	label := what
	if target != path && filepath.Clean(path) != target {
		label = fmt.Sprintf("%s %s (via the symlink %s)", what, target, path)
	}
	if p := c.Check(target, label, st); p != nil {
		return p
	}
	dirs := []string{filepath.Dir(path)}
	if d := filepath.Dir(target); d != dirs[0] {
		dirs = append(dirs, d)
	}
	for _, d := range dirs {
		dst, err := os.Stat(d)
		if err != nil || dst.Mode()&os.ModeSticky != 0 {
			continue
		}
		if p := c.Check(d, fmt.Sprintf("directory of the %s %s", what, path), dst); p != nil {
			return p
		}
	}
	return nil
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

// UserName gives "uid 1000 (alice)", or "uid 1000" for an unknown user.
func UserName(uid int) string {
	s := "uid " + strconv.Itoa(uid)
	if u, err := user.LookupId(strconv.Itoa(uid)); err == nil && u.Username != "" {
		s += " (" + u.Username + ")"
	}
	return s
}
