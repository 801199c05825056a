package launch

import (
	"context"

	"github.com/serve-launch/serve-launch/internal/patch"
	"github.com/serve-launch/serve-launch/internal/proc"
)

// Reloader re-patches every live haproxy with the overrides directory as it
// is now and reloads it gracefully: what `serve-launch run` does when the
// directory changes or on SIGHUP, and what `serve-launch reload` does.
type Reloader struct {
	// Dir is the overrides directory.
	Dir string
	// State is the state directory whose instances are reloaded.
	State *proc.StateDir
	// Scope picks the instances (see [proc.ReloadScope]).
	Scope proc.ReloadScope
	// NoProvenance and InsecureOverrides are the flags of the same names.
	NoProvenance, InsecureOverrides bool
	// Getenv answers the snippets' env function: Ray's environment, so that
	// `env` renders as it did when the shim started haproxy.
	Getenv func(string) (string, bool)
	// Policy is what a failing snippet file does, as in the shim.
	Policy proc.OnPatchError
	// Warn receives a message for each file of the directory skipped with a
	// warning (not a snippet).
	Warn func(string)
}

// Reload loads the snippets and reloads every instance in scope with them.
// A snippet file that fails is quarantined as the shim would (loadErr says
// which failed to load; the report says which the patch left out), so that
// haproxy runs what Ray's next start would give it. err joins the
// instances' failures.
func (r *Reloader) Reload(ctx context.Context) (rep proc.ReloadReport, loadErr, err error) {
	o, loadErr := patch.LoadDir(r.Dir, patch.LoadOptions{Warn: r.Warn, InsecureOverrides: r.InsecureOverrides})
	patcher := ReloadPatcher(o, loadErr, r.NoProvenance, r.Getenv, r.Policy, r.State.Path())
	rep, err = proc.ReloadAll(ctx, r.State, patcher, r.Scope)
	return rep, loadErr, err
}
