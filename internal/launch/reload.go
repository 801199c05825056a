package launch

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"

	"github.com/serve-launch/serve-launch/internal/launch/build"
	"github.com/serve-launch/serve-launch/internal/patch/load"
	"github.com/serve-launch/serve-launch/internal/proc/hotreload"
	"github.com/serve-launch/serve-launch/internal/proc/shim"
	"github.com/serve-launch/serve-launch/internal/proc/state"
)

// Reloader re-patches every live haproxy with the overrides directory as it
// is now and reloads it gracefully: what `serve-launch run` does when the
// directory changes or on SIGHUP, and what `serve-launch reload` does.
type Reloader struct {
	// Dir is the overrides directory.
	Dir string
	// State is the state directory whose instances are reloaded.
	State *state.StateDir
	// Scope picks the instances (see [hotreload.ReloadScope]).
	Scope hotreload.ReloadScope
	// NoProvenance and InsecureOverrides are the flags of the same names.
	NoProvenance, InsecureOverrides bool
	// Getenv answers the snippets' env function: Ray's environment, so that
	// `env` renders as it did when the shim started haproxy.
	Getenv func(string) (string, bool)
	// Policy is what a failing snippet file does, as in the shim.
	Policy shim.OnPatchError
	// Warn receives a message for each file of the directory skipped with a
	// warning (not a snippet).
	Warn func(string)
}

// Reload loads the snippets and reloads every instance in scope with them.
// It is all or nothing: when a snippet file fails to load, to apply or to
// pass haproxy -c, no haproxy changes, and each instance's record and event
// slot say the reload was refused and why (loadErr has the load errors,
// the report each instance's failure). err joins the instances' failures.
//
// The shim is the other way round: at Ray's starts and reloads it leaves a
// failing file out rather than fail, because a start Ray makes must not
// fail. A hot reload has no such constraint, so a bad edit keeps what runs
// until it is fixed or Ray's next reload quarantines it.
func (r *Reloader) Reload(ctx context.Context) (rep hotreload.ReloadReport, loadErr, err error) {
	o, loadErr := load.Dir(r.Dir, load.Options{Warn: r.Warn, InsecureOverrides: r.InsecureOverrides})
	patcher := build.ReloadPatcher(o, loadErr, r.NoProvenance, r.Getenv, r.Policy, r.State.Path())
	rep, err = hotreload.ReloadAll(ctx, r.State, patcher, r.Scope)
	v := build.Verdicts{Path: filepath.Join(r.State.Path(), build.VerdictsFile)}
	for _, res := range rep.Instances {
		if res.NotTaken {
			// haproxy -c cannot see what failed (a bind, say): the snippet
			// files that changed are kept out of Ray's next starts until
			// they change again, or the start would fail the same way and
			// Ray would track a dead process.
			if rerr := v.Refuse(changed(res.Snippets, res.Running), res.Detail); rerr != nil {
				err = errors.Join(err, fmt.Errorf("haproxy %d did not take the reload, and recording which snippet files to leave out of Ray's next start failed (that start may fail the same way): %w", res.MasterPID, rerr))
			}
		}
	}
	return rep, loadErr, err
}

// changed is the snippet files of now that were not in before, or differ.
func changed(now, before []state.Snippet) []state.Snippet {
	var out []state.Snippet
	for _, s := range now {
		if !slices.Contains(before, s) {
			out = append(out, s)
		}
	}
	return out
}
