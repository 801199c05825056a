//go:build linux

package shim

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/serve-launch/serve-launch/internal/proc/state"
)

// Environment variables the launcher sets for the shim (and that the CLI
// reads); the state directory's is [state.EnvStateDir].
const (
	// EnvOverrides is the overrides directory holding the snippets.
	EnvOverrides = "SERVE_LAUNCH_OVERRIDES"
	// EnvRealHAProxy is the path of the real haproxy binary.
	EnvRealHAProxy = "SERVE_LAUNCH_REAL_HAPROXY"
	// EnvOnPatchError is "quarantine" (default) or "passthrough".
	EnvOnPatchError = "SERVE_LAUNCH_ON_PATCH_ERROR"
	// EnvNoProvenance set to "1" turns off provenance comments in patched files.
	EnvNoProvenance = "SERVE_LAUNCH_NO_PROVENANCE"
	// EnvLauncherPID is the PID of the `serve-launch run` that started the
	// child, recorded in instance.json so the launcher can stop every haproxy
	// started under it.
	EnvLauncherPID = "SERVE_LAUNCH_PID"
	// EnvInsecureOverrides set to "1" turns off the overrides permission
	// checks in the shim, as `run --insecure-overrides` does in the launcher.
	EnvInsecureOverrides = "SERVE_LAUNCH_INSECURE_OVERRIDES"
)

// ShimEnv is what the launcher hands the shim through the environment.
type ShimEnv struct {
	// StateDir is the state directory ($SERVE_LAUNCH_STATE_DIR, else
	// [state.DefaultStateDir]).
	StateDir string
	// OverridesDir is the snippet directory ($SERVE_LAUNCH_OVERRIDES, else
	// overrides.d like the --overrides flag's default).
	OverridesDir string
	// RealHAProxy is the real haproxy ($SERVE_LAUNCH_REAL_HAPROXY).
	RealHAProxy string
	// OnPatchError is what a start does with a snippet that cannot apply
	// ($SERVE_LAUNCH_ON_PATCH_ERROR).
	OnPatchError OnPatchError
	// NoProvenance turns off provenance comments ($SERVE_LAUNCH_NO_PROVENANCE=1).
	NoProvenance bool
	// InsecureOverrides turns off the overrides permission checks
	// ($SERVE_LAUNCH_INSECURE_OVERRIDES=1, set only by run --insecure-overrides).
	InsecureOverrides bool
	// LauncherPID is the launcher's PID ($SERVE_LAUNCH_PID), 0 when unset.
	LauncherPID int
}

// ReadShimEnv reads [ShimEnv] with getenv (os.Getenv in production). Its
// error reports bad values, for which defaults were taken; the ShimEnv is
// always usable.
func ReadShimEnv(getenv func(string) string) (ShimEnv, error) {
	e := ShimEnv{
		StateDir:     getenv(state.EnvStateDir),
		OverridesDir: getenv(EnvOverrides),
		RealHAProxy:  getenv(EnvRealHAProxy),
		NoProvenance: getenv(EnvNoProvenance) == "1",

		InsecureOverrides: getenv(EnvInsecureOverrides) == "1",
	}
	if e.StateDir == "" {
		e.StateDir = state.DefaultStateDir()
	}
	if e.OverridesDir == "" {
		e.OverridesDir = "overrides.d"
	}
	// A bad value is reported, and the default taken: the shim must still
	// start haproxy (see RunShim), so nothing here is fatal.
	var errs []error
	p, err := ParseOnPatchError(getenv(EnvOnPatchError))
	if err != nil {
		errs = append(errs, fmt.Errorf("%s: %v; using %s", EnvOnPatchError, err, OnPatchErrorQuarantine))
		p = OnPatchErrorQuarantine
	}
	e.OnPatchError = p
	if v := getenv(EnvLauncherPID); v != "" {
		pid, err := strconv.Atoi(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s=%q is not a PID", EnvLauncherPID, v))
		}
		e.LauncherPID = pid
	}
	return e, errors.Join(errs...)
}

// ChildEnv returns env (KEY=VALUE list) with what the child of `serve-launch
// run` needs so that every haproxy Ray starts goes through the shim:
// RAY_SERVE_ENABLE_HA_PROXY=1, RAY_SERVE_HAPROXY_BINARY_PATH set to binary
// (see [ShimBinaryPath]), shimDir (holding `haproxy`, see [state.ShimDir]) first
// on PATH for a Ray that runs plain `haproxy`, and the SERVE_LAUNCH_*
// variables of e, with LauncherPID defaulting to this process. Later entries
// win in os/exec and execve users alike, so existing keys are replaced, not
// duplicated.
func ChildEnv(env []string, shimDir, binary string, e ShimEnv) []string {
	if e.LauncherPID == 0 {
		e.LauncherPID = os.Getpid()
	}
	path := shimDir
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok && v != "" {
			path = shimDir + string(filepath.ListSeparator) + v
		}
	}
	set := map[string]string{
		"RAY_SERVE_ENABLE_HA_PROXY":     "1",
		"RAY_SERVE_HAPROXY_BINARY_PATH": binary,
		"PATH":                          path,
		state.EnvStateDir:               e.StateDir,
		EnvOverrides:                    e.OverridesDir,
		EnvRealHAProxy:                  e.RealHAProxy,
		EnvOnPatchError:                 string(e.OnPatchError),
		EnvLauncherPID:                  strconv.Itoa(e.LauncherPID),
	}
	if e.NoProvenance {
		set[EnvNoProvenance] = "1"
	}
	if e.InsecureOverrides {
		set[EnvInsecureOverrides] = "1"
	}
	out := make([]string, 0, len(env)+len(set))
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		if _, ok := set[k]; ok {
			continue
		}
		// Flags that loosen the shim are only ever the launcher's to give.
		if k == EnvNoProvenance || k == EnvInsecureOverrides {
			continue
		}
		out = append(out, kv)
	}
	for _, k := range []string{"RAY_SERVE_ENABLE_HA_PROXY", "RAY_SERVE_HAPROXY_BINARY_PATH", "PATH",
		state.EnvStateDir, EnvOverrides, EnvRealHAProxy, EnvOnPatchError, EnvNoProvenance, EnvInsecureOverrides, EnvLauncherPID} {
		if v, ok := set[k]; ok {
			out = append(out, k+"="+v)
		}
	}
	return out
}

// OnPatchError is what a haproxy start does with a snippet file that
// cannot apply. Its zero value is [OnPatchErrorQuarantine].
type OnPatchError string

// The values of [OnPatchError].
const (
	// OnPatchErrorQuarantine leaves the failing file out, whole; the other
	// snippets apply and the instance is reported as degraded.
	OnPatchErrorQuarantine OnPatchError = "quarantine"
	// OnPatchErrorPassthrough runs Ray's config without any snippet.
	OnPatchErrorPassthrough OnPatchError = "passthrough"
)

// ParseOnPatchError reads the --on-patch-error value; "" is the default.
// "fail" is refused with the reason it went away: a start that failed could
// leave Ray tracking a dead process and failing every later reload.
func ParseOnPatchError(s string) (OnPatchError, error) {
	switch OnPatchError(s) {
	case "", OnPatchErrorQuarantine:
		return OnPatchErrorQuarantine, nil
	case OnPatchErrorPassthrough:
		return OnPatchErrorPassthrough, nil
	}
	if s == "fail" {
		return "", errors.New(`"fail" is no longer supported: a haproxy start that fails can leave Ray tracking a dead process, and then every later Ray reload fails until Serve restarts its proxy; use quarantine (the default: a bad snippet file is left out and reported) or passthrough (Ray's config runs without any snippet)`)
	}
	return "", fmt.Errorf("must be quarantine or passthrough, not %q", s)
}

// ShimBinaryPath is the path Ray is given as its haproxy binary:
// /proc/<launcher PID>/fd/<fd>, where fd is the launcher's open descriptor
// of the shim binary. It leads to the shim for as long as the launcher runs
// and nothing in the file system can take it away: a path in the state
// directory can be removed by a tmp cleaner, and Ray would then fail every
// reload ("No such file or directory") until it was put back.
func ShimBinaryPath(launcherPID int, fd uintptr) string {
	return "/proc/" + strconv.Itoa(launcherPID) + "/fd/" + strconv.FormatUint(uint64(fd), 10)
}
