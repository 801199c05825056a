package load

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/serve-launch/serve-launch/internal/patch"
	"github.com/serve-launch/serve-launch/internal/patch/config"
	"github.com/serve-launch/serve-launch/internal/patch/snippet"
)

// Options controls Dir.
type Options struct {
	// Warn receives a message for each file that is skipped with a warning.
	Warn func(msg string)
	// InsecureOverrides turns off the checks that the directory and every
	// snippet are writable by their owner only and owned by this user or
	// root (the --insecure-overrides flag).
	InsecureOverrides bool
	// UID is the user the files may belong to besides root; nil means this
	// process's effective user. Tests set it.
	UID *int
	// readOnly replaces the read-only file system test in tests.
	readOnly func(path string) bool
}

// Dir loads every *.toml file of dir in byte order of the file name.
// Other files are skipped with a warning; hidden files, *.example files and
// editor leftovers silently. Unless opt.InsecureOverrides is set, the
// directory and each snippet must be writable by their owner only and owned
// by this user or root. Every error of every file is returned in one
// config.ErrorList.
//
// With file errors, the Overrides returned still holds every snippet that
// loaded, so that the shim can apply those and leave the bad files out
// (see [patch.Quarantine]); callers that need all or nothing treat any
// error as failure. It is nil only when the directory itself cannot be used.
func Dir(dir string, opt Options) (*patch.Overrides, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("overrides directory: %v", err)
	}
	var perms *permChecker
	if !opt.InsecureOverrides {
		perms = newPermChecker(opt)
		if err := perms.checkDir(dir); err != nil {
			return nil, config.ErrorList{err}
		}
	}
	o := &patch.Overrides{Dir: dir}
	var errs config.ErrorList
	// os.ReadDir sorts by name: byte order, like systemd drop-ins.
	for _, e := range entries {
		name := e.Name()
		if ignoredSilently(name) {
			continue
		}
		path := filepath.Join(dir, name)
		if !strings.HasSuffix(name, ".toml") {
			if opt.Warn != nil {
				opt.Warn(fmt.Sprintf("%s: ignored: not a .toml file", path))
			}
			continue
		}
		data, ferr := readSnippetFile(dir, name, perms, opt)
		if ferr != nil {
			errs = append(errs, ferr)
			continue
		}
		if data == nil {
			continue // a directory, warned about
		}
		sn, err := snippet.Load(name, data)
		if err != nil {
			var list config.ErrorList
			if errors.As(err, &list) {
				errs = append(errs, list...)
			} else {
				errs.Add(config.Position{File: name}, "%v", err)
			}
			continue
		}
		sn.Path = path
		o.Snippets = append(o.Snippets, sn)
	}
	return o, errs.Err()
}

// readSnippetFile reads the snippet dir/name, checking its ownership and
// mode with perms unless perms is nil (--insecure-overrides). A directory
// is skipped with a warning: it returns nil data and no error. Anything but
// a regular file (or a symlink to one) is refused before it is opened, with
// or without perms: a FIFO with a writer, or /dev/zero, would be read for
// as long as it gives bytes. The file is opened without blocking, checked
// again once open (it may have been swapped since the stat), and read up to
// snippet.MaxSize.
func readSnippetFile(dir, name string, perms *permChecker, opt Options) ([]byte, *config.Error) {
	path := filepath.Join(dir, name)
	st, err := os.Stat(path)
	if err != nil {
		return nil, config.Errorf(config.Position{File: path}, "%s", snippetFileErr(path, err))
	}
	if st.IsDir() {
		if opt.Warn != nil {
			opt.Warn(fmt.Sprintf("%s: ignored: a directory", path))
		}
		return nil, nil
	}
	if !st.Mode().IsRegular() {
		return nil, notRegular(path, st.Mode())
	}
	if perms != nil {
		if err := perms.checkFile(dir, name); err != nil {
			return nil, err
		}
	}
	if st.Size() > snippet.MaxSize {
		return nil, config.Errorf(config.Position{File: name}, "snippet is %d bytes, more than the limit of %d", st.Size(), snippet.MaxSize)
	}
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, config.Errorf(config.Position{File: path}, "%s", snippetFileErr(path, err))
	}
	defer f.Close()
	if st, err = f.Stat(); err != nil {
		return nil, config.Errorf(config.Position{File: path}, "%s", snippetFileErr(path, err))
	}
	if !st.Mode().IsRegular() {
		return nil, notRegular(path, st.Mode())
	}
	data := make([]byte, 0, min(st.Size(), snippet.MaxSize)+1)
	for len(data) <= snippet.MaxSize {
		n, err := f.Read(data[len(data):cap(data)])
		data = data[:len(data)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, config.Errorf(config.Position{File: path}, "%s", snippetFileErr(path, err))
		}
		if len(data) == cap(data) && len(data) <= snippet.MaxSize {
			// It grew since the stat: room for the rest, up to the limit.
			data = slices.Grow(data, min(2*cap(data), snippet.MaxSize+1)-len(data))
		}
	}
	if len(data) > snippet.MaxSize {
		return nil, config.Errorf(config.Position{File: name}, "snippet is more than the limit of %d bytes", snippet.MaxSize)
	}
	return data, nil
}

// notRegular refuses a snippet that is no regular file, naming what it is.
func notRegular(path string, mode fs.FileMode) *config.Error {
	what := "not a regular file"
	switch {
	case mode&fs.ModeNamedPipe != 0:
		what = "a FIFO (named pipe)"
	case mode&fs.ModeCharDevice != 0:
		what = "a character device"
	case mode&fs.ModeDevice != 0:
		what = "a block device"
	case mode&fs.ModeSocket != 0:
		what = "a socket"
	}
	return config.Errorf(config.Position{File: path}, "refusing the snippet: it is %s, not a regular file (or a symlink to one), and is not read", what)
}

// ignoredSilently reports hidden files, editor leftovers and examples
// (NAME.toml.example, disabled until renamed).
func ignoredSilently(name string) bool {
	return strings.HasPrefix(name, ".") || strings.HasSuffix(name, "~") || strings.HasSuffix(name, ".example") ||
		strings.HasSuffix(name, ".swp") || strings.HasSuffix(name, ".swo")
}

// snippetFileErr says why the snippet file at path cannot be used, without
// repeating the path the error is reported at, and naming the target of a
// dangling symlink (a deploy that retargeted a link, say).
func snippetFileErr(path string, err error) string {
	if errors.Is(err, fs.ErrNotExist) {
		if target, lerr := os.Readlink(path); lerr == nil {
			return fmt.Sprintf("a symlink to %s, which does not exist", target)
		}
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Op + ": " + pe.Err.Error()
	}
	return err.Error()
}
