package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
	"github.com/serve-launch/serve-launch/internal/launch"
	"github.com/serve-launch/serve-launch/internal/launch/build"
	"github.com/serve-launch/serve-launch/internal/testing/testenv"
)

// TestMain lets testscript run this test binary as the "serve-launch"
// command, so scenarios exercise the real CLI without a separate build.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"serve-launch": func() { os.Exit(run(context.Background(), os.Args, os.Stdout, os.Stderr)) },
		// The shim, as Ray runs it. Not registered as "haproxy", which would
		// shadow the real one on PATH; registered as serve-launch-shim too,
		// which `serve-launch run` finds beside serve-launch.
		"haproxy-shim":  func() { os.Exit(build.ShimMain(context.Background(), os.Args, os.Stderr)) },
		launch.ShimName: func() { os.Exit(build.ShimMain(context.Background(), os.Args, os.Stderr)) },
	})
}

// TestScripts runs every CLI scenario in testdata/script. The scenarios run
// plain haproxy (check, migrate --check, the shim looking for the real
// one), so the tests' haproxy ($HAPROXY, else PATH's) comes first on their
// PATH ($HAPROXY_BIN is its path), and $HAPROXY_VERSION (major.minor) lets
// a scenario assert what one version says differently (and a condition
// [haproxy>=X.Y] picks lines by version).
func TestScripts(t *testing.T) {
	dir, bin := testenv.HAProxyDir(t), testenv.HAProxy(t)
	version := testenv.Version(t)
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(env *testscript.Env) error {
			env.Setenv("PATH", dir+string(os.PathListSeparator)+env.Getenv("PATH"))
			env.Setenv("HAPROXY_VERSION", version.String())
			env.Setenv("HAPROXY_BIN", bin)
			return nil
		},
		Condition: func(cond string) (bool, error) {
			v, ok := strings.CutPrefix(cond, "haproxy>=")
			if !ok {
				return false, fmt.Errorf("unknown condition %q", cond)
			}
			var major, minor int
			if _, err := fmt.Sscanf(v, "%d.%d", &major, &minor); err != nil {
				return false, fmt.Errorf("condition %q: want haproxy>=MAJOR.MINOR", cond)
			}
			return version.AtLeast(major, minor), nil
		},
	})
}
