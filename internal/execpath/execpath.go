// Package execpath finds programs the way a shell would, for every place
// serve-launch looks one up: the real haproxy, the shim beside serve-launch,
// the command `run` starts, a RAY_SERVE_HAPROXY_BINARY_PATH to check. One
// lookup, so they all agree on what counts as a program.
package execpath

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// ErrNotFound is wrapped by LookPath's error when no directory of the list
// has the program.
var ErrNotFound = errors.New("not found on PATH")

// Executable returns nil when path is a file (not a directory) that someone
// may execute.
func Executable(path string) error {
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	if st.IsDir() || st.Mode().Perm()&0o111 == 0 {
		return fmt.Errorf("%s is not an executable file", path)
	}
	return nil
}

// LookPath finds name: a name with a slash is taken as it is, anything else
// is searched in pathList (PATH's form; an empty entry is the working
// directory). skip, when set, passes over a candidate it reports true for
// (the shim skips itself when it looks for the real haproxy). The path
// returned is absolute.
func LookPath(name, pathList string, skip func(path string) bool) (string, error) {
	if strings.Contains(name, "/") {
		p, err := filepath.Abs(name)
		if err != nil {
			return "", err
		}
		return p, Executable(p)
	}
	for _, d := range filepath.SplitList(pathList) {
		if d == "" {
			d = "."
		}
		p, err := filepath.Abs(filepath.Join(d, name))
		if err != nil || Executable(p) != nil || (skip != nil && skip(p)) {
			continue
		}
		return p, nil
	}
	return "", fmt.Errorf("%s: %w", name, ErrNotFound)
}
