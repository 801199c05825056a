package main

import (
	"context"
	"os"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

// TestMain lets testscript run this test binary as the "serve-launch"
// command, so scenarios exercise the real CLI without a separate build.
func TestMain(m *testing.M) {
	os.Exit(testscript.RunMain(m, map[string]func() int{
		"serve-launch": func() int { return run(context.Background(), os.Args, os.Stdout, os.Stderr) },
		// The shim, as Ray runs it: serve-launch invoked by the name haproxy.
		// Not registered as "haproxy", which would shadow the real one on PATH.
		"haproxy-shim": func() int {
			return run(context.Background(), append([]string{"haproxy"}, os.Args[1:]...), os.Stdout, os.Stderr)
		},
	}))
}

// TestScripts runs every CLI scenario in testdata/script.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{Dir: "testdata/script"})
}
