package proc

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// ShimEnv is what the launcher hands the shim through the environment.
type ShimEnv struct {
	// StateDir is the state directory ($SERVE_LAUNCH_STATE_DIR, else
	// [DefaultStateDir]).
	StateDir string
	// OverridesDir is the snippet directory ($SERVE_LAUNCH_OVERRIDES, else
	// overrides.d like the --overrides flag's default).
	OverridesDir string
	// RealHAProxy is the real haproxy ($SERVE_LAUNCH_REAL_HAPROXY).
	RealHAProxy string
	// OnPatchError is "fail" or "passthrough" ($SERVE_LAUNCH_ON_PATCH_ERROR).
	OnPatchError string
	// NoProvenance turns off provenance comments ($SERVE_LAUNCH_NO_PROVENANCE=1).
	NoProvenance bool
	// InsecureOverrides turns off the overrides permission checks
	// ($SERVE_LAUNCH_INSECURE_OVERRIDES=1, set only by run --insecure-overrides).
	InsecureOverrides bool
	// LauncherPID is the launcher's PID ($SERVE_LAUNCH_PID), 0 when unset.
	LauncherPID int
}

// ReadShimEnv reads [ShimEnv] with getenv (os.Getenv in production).
func ReadShimEnv(getenv func(string) string) (ShimEnv, error) {
	e := ShimEnv{
		StateDir:     getenv(EnvStateDir),
		OverridesDir: getenv(EnvOverrides),
		RealHAProxy:  getenv(EnvRealHAProxy),
		OnPatchError: getenv(EnvOnPatchError),
		NoProvenance: getenv(EnvNoProvenance) == "1",

		InsecureOverrides: getenv(EnvInsecureOverrides) == "1",
	}
	if e.StateDir == "" {
		e.StateDir = DefaultStateDir()
	}
	if e.OverridesDir == "" {
		e.OverridesDir = "overrides.d"
	}
	if e.OnPatchError == "" {
		e.OnPatchError = OnPatchErrorFail
	}
	if e.OnPatchError != OnPatchErrorFail && e.OnPatchError != OnPatchErrorPassthrough {
		return e, fmt.Errorf("%s must be %q or %q, not %q", EnvOnPatchError, OnPatchErrorFail, OnPatchErrorPassthrough, e.OnPatchError)
	}
	if v := getenv(EnvLauncherPID); v != "" {
		pid, err := strconv.Atoi(v)
		if err != nil {
			return e, fmt.Errorf("%s=%q is not a PID", EnvLauncherPID, v)
		}
		e.LauncherPID = pid
	}
	return e, nil
}

// ChildEnv returns env (KEY=VALUE list) with what the child of `serve-launch
// run` needs so that every haproxy Ray starts goes through the shim in
// shimDir (see [ShimDir]): RAY_SERVE_ENABLE_HA_PROXY=1,
// RAY_SERVE_HAPROXY_BINARY_PATH=<shimDir>/haproxy, shimDir first on PATH
// (Ray 2.55 may run plain `haproxy`), and the SERVE_LAUNCH_* variables of
// e, with LauncherPID defaulting to this process. Later entries win in
// os/exec and execve users alike, so existing keys are replaced, not
// duplicated.
func ChildEnv(env []string, shimDir string, e ShimEnv) []string {
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
		"RAY_SERVE_HAPROXY_BINARY_PATH": filepath.Join(shimDir, "haproxy"),
		"PATH":                          path,
		EnvStateDir:                     e.StateDir,
		EnvOverrides:                    e.OverridesDir,
		EnvRealHAProxy:                  e.RealHAProxy,
		EnvOnPatchError:                 e.OnPatchError,
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
		EnvStateDir, EnvOverrides, EnvRealHAProxy, EnvOnPatchError, EnvNoProvenance, EnvInsecureOverrides, EnvLauncherPID} {
		if v, ok := set[k]; ok {
			out = append(out, k+"="+v)
		}
	}
	return out
}
