package main

import (
	"context"
	"os"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
	"github.com/serve-launch/serve-launch/internal/launch"
)

// TestMain lets testscript run this test binary as the "serve-launch"
// command, so scenarios exercise the real CLI without a separate build.
func TestMain(m *testing.M) {
	os.Exit(testscript.RunMain(m, map[string]func() int{
		"serve-launch": func() int { return run(context.Background(), os.Args, os.Stdout, os.Stderr) },
		// The shim, as Ray runs it. Not registered as "haproxy", which would
		// shadow the real one on PATH; registered as serve-launch-shim too,
		// which `serve-launch run` finds beside serve-launch.
		"haproxy-shim": func() int {
			return launch.ShimMain(context.Background(), os.Args, os.Stderr)
		},
		launch.ShimName: func() int {
			return launch.ShimMain(context.Background(), os.Args, os.Stderr)
		},
	}))
}

// TestScripts runs every CLI scenario in testdata/script.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{Dir: "testdata/script"})
}
