package main

import (
	"context"
	"os"
	"path/filepath"

	"github.com/serve-launch/serve-launch/internal/launch"
	"github.com/serve-launch/serve-launch/internal/proc"
)

// isShim reports whether this process was started as the haproxy shim: by
// the name `haproxy` (the symlink the launcher puts first on PATH), or by the
// path the launcher gave Ray in RAY_SERVE_HAPROXY_BINARY_PATH.
func isShim(args []string) bool {
	if len(args) == 0 {
		return false
	}
	if filepath.Base(args[0]) == "haproxy" {
		return true
	}
	bin := os.Getenv("RAY_SERVE_HAPROXY_BINARY_PATH")
	return bin != "" && os.Getenv(proc.EnvLauncherPID) != "" && bin == args[0]
}

// runShim patches the config Ray generated and execs the real haproxy. It
// only returns on failure; the message goes to stderr, which Ray shows when
// haproxy fails to start. Everything else goes to the state dir's shim.log.
func runShim(ctx context.Context, args []string, out *output) int {
	env, err := proc.ReadShimEnv(os.Getenv)
	if err != nil {
		out.errorf("haproxy shim: %v", err)
		return 1
	}
	stateDir, err := proc.OpenStateDir(env.StateDir)
	if err != nil {
		out.errorf("haproxy shim: %v", err)
		return 1
	}
	real, err := proc.ResolveRealHAProxy(env.RealHAProxy, os.Getenv("PATH"))
	if err != nil {
		out.errorf("haproxy shim: %v", err)
		return 1
	}
	patcher, snippets := launch.ShimPatcher(env.OverridesDir, env.NoProvenance, env.InsecureOverrides)
	err = proc.RunShim(ctx, proc.ShimConfig{
		Argv:         args[1:],
		RealHAProxy:  real,
		StateDir:     stateDir,
		Patcher:      patcher,
		Snippets:     snippets,
		OnPatchError: env.OnPatchError,
		OverridesDir: env.OverridesDir,
		LauncherPID:  env.LauncherPID,
	})
	out.errorf("haproxy shim: %v", err)
	return 1
}
