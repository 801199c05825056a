package build

import (
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/serve-launch/serve-launch/internal/patch"
	"github.com/serve-launch/serve-launch/internal/patch/load"
	"github.com/serve-launch/serve-launch/internal/proc/shim"
	"github.com/serve-launch/serve-launch/internal/proc/state"
)

// ShimCheckTimeout bounds the `haproxy -c` a shim runs on snippet lines
// not judged before: its time counts against Ray's 5 s readiness wait.
const ShimCheckTimeout = 3 * time.Second

// VerdictsFile is the name of the [Verdicts] file in the state directory.
const VerdictsFile = "verdicts"

// ShimPatcher returns the shim's patch function: a [Builder] over the
// overrides directory the launcher named, checking new snippet lines with
// the real haproxy.
//
// The directory is loaded at the first patch, not here: the shim patches
// under the instance lock, after waiting (up to seconds) for the haproxy it
// replaces to finish starting and for a hot reload holding that lock.
// Snippets loaded before that wait could predate an edit that a hot reload
// has already applied meanwhile; haproxy would then start on the old
// snippets and nothing would reload it again. Loaded under the lock, the
// shim's snippets are never older than the last hot reload's, and a later
// edit triggers another hot reload that waits for the lock. One load serves
// every -f file of a start, so they all see the same snippets.
func ShimPatcher(env shim.ShimEnv, realHAProxy string) shim.Patcher {
	b := &Builder{
		Load: sync.OnceValues(func() (*patch.Overrides, error) {
			return load.Dir(env.OverridesDir, load.Options{InsecureOverrides: env.InsecureOverrides})
		}),
		// The shim runs in Ray's environment, which already has the env
		// files applied.
		Apply:        patch.ApplyOptions{NoProvenance: env.NoProvenance, Getenv: os.LookupEnv},
		Policy:       env.OnPatchError,
		HAProxy:      realHAProxy,
		Verdicts:     filepath.Join(env.StateDir, VerdictsFile),
		CheckTimeout: ShimCheckTimeout,
	}
	return b.Patch
}

// ReloadPatcher returns the patch function of a hot reload: the same
// [Builder] as the shim's, over snippets already loaded (o and its load
// error, as [load.Dir] returned them), so that a hot reload gives
// haproxy what Ray's next start through the shim would.
//
// getenv answers the snippets' env template function. It must see what the
// shim sees, Ray's environment with the env files applied (see [Lookup]), or
// a hot reload would render `env` differently from the haproxy start it
// replaces.
func ReloadPatcher(o *patch.Overrides, loadErr error, noProvenance bool, getenv func(string) (string, bool), policy shim.OnPatchError, stateDir string) shim.Patcher {
	b := &Builder{
		Load:     func() (*patch.Overrides, error) { return o, loadErr },
		Apply:    patch.ApplyOptions{NoProvenance: noProvenance, Getenv: getenv},
		Policy:   policy,
		Verdicts: filepath.Join(stateDir, VerdictsFile),
	}
	return b.Patch
}

// Snippets lists the snippet files of o with their SHA-256, as the instance
// records of the shim and of a hot reload keep them.
func Snippets(o *patch.Overrides) []state.Snippet {
	snippets := make([]state.Snippet, len(o.Snippets))
	for i, sn := range o.Snippets {
		snippets[i] = state.Snippet{Name: sn.Name, SHA256: sn.SHA256}
	}
	return snippets
}
