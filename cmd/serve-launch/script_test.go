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
	}))
}

// TestScripts runs every CLI scenario in testdata/script.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{Dir: "testdata/script"})
}
