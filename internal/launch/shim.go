package launch

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/serve-launch/serve-launch/internal/execpath"
)

// ShimName is the shim's executable: the haproxy Ray runs under
// `serve-launch run`. It ships beside serve-launch.
//
// Why a binary of its own: the shim runs at every haproxy start Ray makes,
// and every package a Go binary links runs its init at every start. The
// launcher's HTTP metrics server and its CLI would add milliseconds to each
// of them (BENCHMARKS.md, design notes), for nothing the shim uses.
const ShimName = "serve-launch-shim"

// EnvShim overrides where the launcher finds [ShimName].
const EnvShim = "SERVE_LAUNCH_SHIM"

// FindShim finds the shim binary: $SERVE_LAUNCH_SHIM, else ShimName in the
// directory serve-launch was run from (argv0, as typed or found on PATH),
// else in the directory of the running executable.
func FindShim(argv0 string, getenv func(string) string) (string, error) {
	if p := getenv(EnvShim); p != "" {
		abs, err := filepath.Abs(p)
		if err == nil {
			err = execpath.Executable(abs)
		}
		if err != nil {
			return "", fmt.Errorf("%s=%s: %v", EnvShim, p, err)
		}
		return abs, nil
	}
	var dirs []string
	if p, err := execpath.LookPath(argv0, getenv("PATH"), nil); err == nil {
		dirs = append(dirs, filepath.Dir(p))
	}
	if exe, err := os.Executable(); err == nil {
		dirs = append(dirs, filepath.Dir(exe))
	}
	if p, err := execpath.LookPath(ShimName, strings.Join(dirs, string(filepath.ListSeparator)), nil); err == nil {
		return p, nil
	}
	return "", fmt.Errorf("%s not found beside serve-launch (looked in %s): install both programs (the wheel and the release archive carry both; go install github.com/serve-launch/serve-launch/cmd/...@latest builds both), or name it in %s",
		ShimName, strings.Join(dirs, ", "), EnvShim)
}
