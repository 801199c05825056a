package build

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/serve-launch/serve-launch/internal/proc/shim"
)

// ShimMain is the shim's main: it patches the config Ray generated and
// execs the real haproxy. It only returns on failure, with the message on
// stderr (Ray shows it when haproxy fails to start); everything else goes
// to the state dir's shim.log, because Ray 2.55 never drains haproxy's
// stdout and stderr.
func ShimMain(ctx context.Context, args []string, stderr io.Writer) int {
	env, err := shim.ReadShimEnv(os.Getenv)
	if err != nil {
		fmt.Fprintf(stderr, "serve-launch: warning: haproxy shim: %v\n", err)
	}
	real, err := shim.ResolveRealHAProxy(env.RealHAProxy, os.Getenv("PATH"))
	if err != nil {
		fmt.Fprintf(stderr, "serve-launch: error: haproxy shim: %v\n", err)
		return 1
	}
	err = shim.RunShim(ctx, shim.ShimConfig{
		Argv:              args[1:],
		RealHAProxy:       real,
		StateDir:          env.StateDir,
		Patcher:           ShimPatcher(env, real),
		OverridesDir:      env.OverridesDir,
		InsecureOverrides: env.InsecureOverrides,
		LauncherPID:       env.LauncherPID,
		Stderr:            stderr,
	})
	fmt.Fprintf(stderr, "serve-launch: error: haproxy shim: %v\n", err)
	return 1
}
