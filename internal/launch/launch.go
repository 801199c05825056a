// Package launch holds what `serve-launch run` does before and around Ray:
// the preflight check of the snippets against a config in Ray's shape, the
// environment handed to Ray so that every haproxy it starts goes through the
// shim (found beside serve-launch), and the hot reload of the overrides.
// What a haproxy runs is made by package build, which the shim and hot
// reload share.
package launch

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/serve-launch/serve-launch/internal/envmap"
	"github.com/serve-launch/serve-launch/internal/patch"
	"github.com/serve-launch/serve-launch/internal/patch/config"
	"github.com/serve-launch/serve-launch/internal/patch/hapcheck"
	"github.com/serve-launch/serve-launch/internal/proc/shim"
	"github.com/serve-launch/serve-launch/internal/raycfg"
)

// Lookup returns a getenv over an environment list such as Ray's.
func Lookup(environ []string) func(string) (string, bool) {
	m := envmap.FromEnviron(environ)
	return func(name string) (string, bool) {
		v, ok := m[name]
		return v, ok
	}
}

// RayConfigName is the file name that messages about [RayConfig]'s output carry.
const RayConfigName = "built-in config in Ray 2.55's shape"

// RayVars returns the RAY_SERVE_HAPROXY_* values Ray renders its config
// from: every setting of env that is set (KEY= unsets).
func RayVars(env *envmap.Env) map[string]string {
	vars := map[string]string{}
	for _, s := range env.Settings() {
		if s.Set && !s.Unset {
			vars[s.Var.Name] = s.Value
		}
	}
	return vars
}

// RayConfig renders a config in Ray 2.55's shape from vars (see [RayVars]),
// with one app of two replicas: what the preflight checks the snippets
// against and `check --audit` audits when no generated file is at hand.
func RayConfig(vars map[string]string) ([]byte, error) {
	cfg, err := raycfg.Render(raycfg.Options{Shape: raycfg.Shape255, Env: vars, Apps: []raycfg.App{{
		Name: "app", RoutePrefix: "/",
		Replicas: []raycfg.Target{
			{Name: "SERVE_REPLICA::app#App#replica1", Host: "127.0.0.1", Port: 30000},
			{Name: "SERVE_REPLICA::app#App#replica2", Host: "127.0.0.1", Port: 30001},
		},
	}}})
	if err != nil {
		return nil, fmt.Errorf("rendering a config in Ray's shape: %v", err)
	}
	return cfg, nil
}

// Preflight renders a config in Ray 2.55's shape from the user's settings
// ([RayConfig]), applies the overrides and runs `haproxy -c` on the
// result, so that a snippet that cannot work fails before Ray starts. getenv
// answers the snippets' env function, as for [Patcher].
func Preflight(ctx context.Context, env *envmap.Env, o *patch.Overrides, haproxy string, getenv func(string) (string, bool)) error {
	dir, err := os.MkdirTemp("", "serve-launch-preflight-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	vars := RayVars(env)
	// Paths move into the temp dir: -c opens errorfile and state files.
	vars["RAY_SERVE_HAPROXY_CONFIG_FILE_LOC"] = filepath.Join(dir, "haproxy.cfg")
	vars["RAY_SERVE_HAPROXY_SOCKET_PATH"] = filepath.Join(dir, "admin.sock")
	vars["RAY_SERVE_HAPROXY_SERVER_STATE_BASE"] = dir
	vars["RAY_SERVE_HAPROXY_SERVER_STATE_FILE"] = filepath.Join(dir, "server-state")
	settings, err := raycfg.ReadEnv(vars, raycfg.Shape255)
	if err != nil {
		return err
	}
	if err := raycfg.PrepareDirs(settings); err != nil {
		return err
	}
	cfg, err := RayConfig(vars)
	if err != nil {
		return err
	}
	if err := preflightOne(ctx, RayConfigName, cfg, o, haproxy, getenv); err != nil {
		return err
	}
	// Ray starts haproxy before its first routes arrive: that start runs on
	// a config without application backends, where .Servers is 0. A
	// snippet must pass there too, or every start Ray makes fails.
	first, err := raycfg.Render(raycfg.Options{Shape: raycfg.Shape255, Env: vars})
	if err != nil {
		return fmt.Errorf("rendering a config in Ray's shape: %v", err)
	}
	return preflightOne(ctx, RayFirstConfigName, first, o, haproxy, getenv)
}

// RayFirstConfigName is the file name that messages about the config of
// Ray's first start, before any route, carry.
const RayFirstConfigName = "config of Ray's first start, before any route"

// preflightOne applies o to cfg, named name, and runs `haproxy -c` on it.
func preflightOne(ctx context.Context, name string, cfg []byte, o *patch.Overrides, haproxy string, getenv func(string) (string, bool)) error {
	f, err := config.Parse(name, cfg)
	if err != nil {
		return err
	}
	if err := o.Apply(f, patch.ApplyOptions{Getenv: getenv}); err != nil {
		return err
	}
	res, err := hapcheck.Check(ctx, haproxy, f)
	if err != nil {
		return err
	}
	if res.OK {
		return nil
	}
	var list config.ErrorList
	for _, m := range res.Messages {
		if m.Level == "ALERT" {
			list = append(list, &config.Error{Pos: m.Source, Err: fmt.Errorf("haproxy -c on the %s: %s", name, m.Text)})
		}
	}
	if len(list) == 0 {
		return fmt.Errorf("haproxy -c on the %s failed:\n%s", name, strings.TrimSpace(res.Output))
	}
	return list
}

// ChildConfig describes how Ray's environment is set up.
type ChildConfig struct {
	// Env is the checked RAY_SERVE_HAPROXY_* settings.
	Env *envmap.Env
	// Base is the launcher's own environment (os.Environ()).
	Base []string
	// ShimDir is the directory holding `haproxy` -> serve-launch-shim.
	ShimDir string
	// ShimBinary is Ray's haproxy binary path (see [shim.ShimBinaryPath]).
	ShimBinary string
	// Shim is what the shim is told through SERVE_LAUNCH_* variables.
	Shim shim.ShimEnv
}

// ChildEnviron returns Ray's environment: the user's settings (env files
// applied, KEY= unset), HAProxy mode on, the shim as Ray's haproxy binary and
// first on PATH (Ray 2.55 may run plain `haproxy`), and what the shim needs
// to find everything else.
func ChildEnviron(c ChildConfig) []string {
	return shim.ChildEnv(c.Env.ChildEnviron(c.Base), c.ShimDir, c.ShimBinary, c.Shim)
}
