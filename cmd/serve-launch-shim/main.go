// Command serve-launch-shim is the haproxy that Ray runs under
// `serve-launch run`: it patches the config Ray generated with the
// overrides.d snippets and execs the real haproxy on the patched copy, in
// the process Ray started.
//
// The launcher points Ray at it (RAY_SERVE_HAPROXY_BINARY_PATH, and a
// `haproxy` link first on PATH) and tells it everything through
// SERVE_LAUNCH_* variables; it is not meant to be run by hand.
package main

import (
	"context"
	"os"
	"runtime/debug"

	"github.com/serve-launch/serve-launch/internal/launch/build"
)

func main() {
	// A shim exits or execs within milliseconds: a garbage collection
	// would only cost time (about a sixth of a 4096-server start). The
	// limit keeps a huge config from growing without bound; past it the
	// collector runs again. GOGC or GOMEMLIMIT in the environment win.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(-1)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(48 << 20)
	}
	os.Exit(build.ShimMain(context.Background(), os.Args, os.Stderr))
}
