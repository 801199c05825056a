// Package launch holds what `serve-launch run` does before and around Ray:
// the preflight check of the snippets against a config in Ray's shape, the
// environment handed to Ray so that every haproxy it starts goes through the
// shim (found beside serve-launch), and the hot reload of the overrides.
// What a haproxy runs is made by package build, which the shim and hot
// reload share.
package launch

import (
	"context"
	"errors"
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

// RayConfigName is the name messages give the built-in config with apps
// in release r's shape (see [BuiltInConfigs]).
func RayConfigName(r envmap.Release) string {
	return "built-in config in Ray " + r.Name() + "'s shape"
}

// RayFirstConfigName is the file name that messages about the config of
// Ray's first start, before any route, carry.
const RayFirstConfigName = "config of Ray's first start, before any route"

// RayVars returns the RAY_SERVE_HAPROXY_* values Ray renders its config
// from: every setting of env that is set (KEY= unsets) and that env's
// release reads.
func RayVars(env *envmap.Env) map[string]string {
	vars := map[string]string{}
	for _, s := range env.Settings() {
		if s.Set && !s.Unset && !s.Ignored {
			vars[s.Var.Name] = s.Value
		}
	}
	return vars
}

// RayConfig renders a config in the shape of Ray release r from vars (see
// [RayVars]), with one app of two replicas: what `check --audit` audits when
// no generated file is at hand, and the first of [BuiltInConfigs].
func RayConfig(r envmap.Release, vars map[string]string) ([]byte, error) {
	cfg, err := raycfg.Render(raycfg.Options{Shape: raycfg.ShapeFor(r), Env: vars, Apps: []raycfg.App{{
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

// BuiltIn is a config in Ray's shape that serve-launch patches where no
// config Ray generated is at hand: run's preflight, and check without
// --config.
type BuiltIn struct {
	// Name is what messages about the config call it.
	Name string
	// Data is the config.
	Data []byte
	// FirstStart tells Ray's first start, before any route, from the
	// config with apps.
	FirstStart bool
}

// BuiltInConfigs renders, in the shape of Ray release r from vars (see
// [RayVars]), the two configs every snippet must suit: one with an app of
// two replicas ([RayConfig]), and Ray's first start. Ray starts haproxy
// before its first routes arrive, on a config without application
// backends where .Servers is 0; a snippet that fails there would fail
// every start Ray makes. run's preflight and check both patch these, so
// that the two agree.
func BuiltInConfigs(r envmap.Release, vars map[string]string) ([]BuiltIn, error) {
	apps, err := RayConfig(r, vars)
	if err != nil {
		return nil, err
	}
	first, err := raycfg.Render(raycfg.Options{Shape: raycfg.ShapeFor(r), Env: vars})
	if err != nil {
		return nil, fmt.Errorf("rendering a config in Ray's shape: %v", err)
	}
	return []BuiltIn{
		{Name: RayConfigName(r), Data: apps},
		{Name: RayFirstConfigName, Data: first, FirstStart: true},
	}, nil
}

// firstStartOnly ends the message of an error only Ray's first start has.
const firstStartOnly = " (on Ray's first start, before any route)"

// ApplyBuiltIn applies o to each of cfgs and returns the patched files, in
// the order of cfgs, and every error of the snippets, sorted by file and
// line. A snippet line that fails on several configs is reported once, as
// the config with apps has it; an error only Ray's first start has says so.
// The files are meaningful only when there is no error.
func ApplyBuiltIn(cfgs []BuiltIn, o *patch.Overrides, opt patch.ApplyOptions) ([]*config.File, config.ErrorList) {
	var files []*config.File
	var all config.ErrorList
	seen := map[config.Position]bool{}
	for _, c := range cfgs {
		f, err := config.Parse(c.Name, c.Data)
		if err != nil {
			all = append(all, config.Errorf(config.Position{File: c.Name}, "%v", err))
			continue
		}
		files = append(files, f)
		err = o.Apply(f, opt)
		if err == nil {
			continue
		}
		var list config.ErrorList
		if !errors.As(err, &list) {
			all = append(all, config.Errorf(config.Position{File: c.Name}, "%v", err))
			continue
		}
		var fresh config.ErrorList
		for _, e := range list {
			if seen[e.Pos] {
				continue
			}
			if c.FirstStart {
				e = &config.Error{Pos: e.Pos, Err: fmt.Errorf("%w%s", e.Err, firstStartOnly)}
			}
			fresh = append(fresh, e)
		}
		// Marked after the config: one config may report a line in every
		// section it edits.
		for _, e := range fresh {
			seen[e.Pos] = true
		}
		all = append(all, fresh...)
	}
	patch.SortByFile(all)
	return files, all
}

// Preflight renders the configs of [BuiltInConfigs] in the shape of env's
// release from the user's settings, applies the overrides and runs
// `haproxy -c` on each result, so that a snippet that cannot work fails
// before Ray starts. getenv answers the snippets' env function, as in the
// shim ([build.ShimPatcher]). Every error of applying the snippets is returned together, as
// a config.ErrorList; haproxy -c runs only when they apply.
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
	settings, err := raycfg.ReadEnv(vars, raycfg.ShapeFor(env.Release()))
	if err != nil {
		return err
	}
	if err := raycfg.PrepareDirs(settings); err != nil {
		return err
	}
	cfgs, err := BuiltInConfigs(env.Release(), vars)
	if err != nil {
		return err
	}
	files, errs := ApplyBuiltIn(cfgs, o, patch.ApplyOptions{Getenv: getenv})
	if len(errs) > 0 {
		return errs
	}
	for _, f := range files {
		if err := hapCheck(ctx, f, haproxy); err != nil {
			return err
		}
	}
	return nil
}

// hapCheck runs `haproxy -c` on f, a patched built-in config.
func hapCheck(ctx context.Context, f *config.File, haproxy string) error {
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
			list = append(list, &config.Error{Pos: m.Source, Err: fmt.Errorf("haproxy -c on the %s: %s", f.Name, m.Text)})
		}
	}
	if len(list) == 0 {
		return fmt.Errorf("haproxy -c on the %s failed:\n%s", f.Name, strings.TrimSpace(res.Output))
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
