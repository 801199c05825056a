package load

import (
	"github.com/serve-launch/serve-launch/internal/patch/config"
	"github.com/serve-launch/serve-launch/internal/perm"
)

// Whoever can write a snippet controls the haproxy serve-launch starts, and
// haproxy can load Lua and run programs. So, like sshd's StrictModes, the
// overrides directory and every snippet it loads must be writable by their
// owner only, and owned by the user running serve-launch or by root. The
// rule itself lives in package perm, which env files share.

// permChecker checks the ownership and mode of the overrides directory and
// its snippets.
type permChecker struct{ c *perm.Checker }

func newPermChecker(opt Options) *permChecker {
	c := perm.New(opt.UID, "(or run with --insecure-overrides)")
	c.ReadOnly = opt.readOnly
	return &permChecker{c: c}
}

// checkDir checks the overrides directory itself (following a symlink to it).
func (pc *permChecker) checkDir(dir string) *config.Error {
	return asError(pc.c.CheckPath(dir, "overrides directory"))
}

// checkFile checks the snippet dir/name, following symlinks (see
// perm.Checker.CheckIn).
func (pc *permChecker) checkFile(dir, name string) *config.Error {
	return asError(pc.c.CheckIn(dir, name, "snippet"))
}

func asError(p *perm.Problem) *config.Error {
	if p == nil {
		return nil
	}
	return config.Errorf(config.Position{File: p.Path}, "%s", p.Msg)
}
