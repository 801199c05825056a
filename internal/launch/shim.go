package launch

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// ShimName is the shim's executable: the haproxy Ray runs under
// `serve-launch run`. It ships beside serve-launch.
//
// Why a binary of its own: the shim runs at every haproxy start Ray makes,
// and every package a Go binary links runs its init at every start. The
// launcher's HTTP metrics server and its CLI would add milliseconds to each
// of them (the Prometheus client's init alone was 2.5 to 5 ms here), for
// nothing the shim uses.
const ShimName = "serve-launch-shim"

// EnvShim overrides where the launcher finds [ShimName].
const EnvShim = "SERVE_LAUNCH_SHIM"

// FindShim finds the shim binary: $SERVE_LAUNCH_SHIM, else ShimName in the
// directory serve-launch was run from (argv0, as typed or found on PATH),
// else in the directory of the running executable.
func FindShim(argv0 string, getenv func(string) string) (string, error) {
	if p := getenv(EnvShim); p != "" {
		if err := executable(p); err != nil {
			return "", fmt.Errorf("%s=%s: %v", EnvShim, p, err)
		}
		return filepath.Abs(p)
	}
	var dirs []string
	if strings.Contains(argv0, "/") {
		dirs = append(dirs, filepath.Dir(argv0))
	} else if p, err := exec.LookPath(argv0); err == nil {
		dirs = append(dirs, filepath.Dir(p))
	}
	if exe, err := os.Executable(); err == nil {
		dirs = append(dirs, filepath.Dir(exe))
	}
	for _, d := range dirs {
		p := filepath.Join(d, ShimName)
		if executable(p) == nil {
			return filepath.Abs(p)
		}
	}
	return "", fmt.Errorf("%s not found beside serve-launch (looked in %s): install both programs (the wheel and the release archive carry both; go install github.com/serve-launch/serve-launch/cmd/...@latest builds both), or name it in %s",
		ShimName, strings.Join(dirs, ", "), EnvShim)
}

func executable(p string) error {
	st, err := os.Stat(p)
	if err != nil {
		return err
	}
	if st.IsDir() || st.Mode().Perm()&0o111 == 0 {
		return errors.New("not an executable file")
	}
	return nil
}
