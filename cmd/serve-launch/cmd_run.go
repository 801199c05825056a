package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/serve-launch/serve-launch/internal/envmap"
	"github.com/serve-launch/serve-launch/internal/execpath"
	"github.com/serve-launch/serve-launch/internal/launch"
	"github.com/serve-launch/serve-launch/internal/metrics"
	"github.com/serve-launch/serve-launch/internal/proc"
	"github.com/serve-launch/serve-launch/internal/proc/hotreload"
	"github.com/serve-launch/serve-launch/internal/proc/shim"
	"github.com/serve-launch/serve-launch/internal/proc/state"
	"github.com/urfave/cli/v2"
)

func envFileFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringSliceFlag{Name: "env-file", Usage: "read RAY_SERVE_HAPROXY_* settings from `FILE` (repeatable; later files win)"},
		&cli.BoolFlag{Name: "env-file-wins", Usage: "let env files win over the process environment"},
	}
}

func stateDirFlag() cli.Flag {
	return &cli.StringFlag{
		Name:    "state-dir",
		Usage:   "private directory for the generated and patched configs of every haproxy started (default $XDG_RUNTIME_DIR/serve-launch or /tmp/serve-launch-UID)",
		EnvVars: []string{state.EnvStateDir},
	}
}

func openStateDir(c *cli.Context) (*state.StateDir, error) {
	dir := c.String("state-dir")
	if dir == "" {
		dir = state.DefaultStateDir()
	}
	return state.OpenStateDir(dir)
}

func runCommand(out *output) *cli.Command {
	return &cli.Command{
		Name:      "run",
		Usage:     "run Ray Serve (or any command) with every haproxy it starts patched by overrides.d",
		ArgsUsage: "[APP...] | -- CMD [ARGS...]",
		Description: `Checks the RAY_SERVE_HAPROXY_* settings and every snippet, then runs the
command with Ray's HAProxy mode on and serve-launch standing in for the haproxy
binary: each haproxy start and reload Ray makes runs on the generated config with
the snippets applied. Without "--", the arguments go to "serve run".

The launcher watches the overrides directory: a valid change re-patches and
gracefully reloads every haproxy started under it; an invalid one is reported
and changes nothing. SIGHUP does the same on demand; SIGINT, SIGTERM and SIGQUIT
are forwarded to the command's process group, then SIGKILL after --grace-period.
The exit status is the command's (128+N when signal N killed it).

Before anything starts, run raises its soft limit of open files to the hard
limit, which the command inherits, and refuses a RAY_SERVE_HAPROXY_MAXCONN that
even the hard limit cannot hold (haproxy needs about 2 x maxconn open files and
would fail at every start). --ray-version names the Ray the command runs (2.55
by default): its defaults, and the shape of the configs the preflight checks.

Examples:
   serve-launch run --env-file serve.env app.yaml
   serve-launch run --overrides /etc/serve/overrides.d -- ray start --head --block`,
		Flags: append(envFileFlags(),
			overridesFlag(),
			insecureOverridesFlag(),
			noProvenanceFlag(),
			stateDirFlag(),
			&cli.StringFlag{Name: "haproxy", Usage: "the real haproxy binary (default: RAY_SERVE_HAPROXY_BINARY_PATH if you set it, else haproxy on PATH)"},
			&cli.StringFlag{Name: "on-patch-error", Value: string(shim.OnPatchErrorQuarantine),
				Usage: "when a snippet file fails at a Ray start or reload: quarantine (leave that file out, apply the others, report the instance degraded) or passthrough (run Ray's config without any snippet, reported degraded)"},
			&cli.BoolFlag{Name: "skip-preflight", Usage: "do not apply the snippets to configs in Ray's shape and run haproxy -c on them before starting (snippet files that do not load still stop run)"},
			&cli.BoolFlag{Name: "no-watch", Usage: "do not watch the overrides directory for changes"},
			&cli.DurationFlag{Name: "grace-period", Value: proc.DefaultGracePeriod, Usage: "wait between forwarding a stop signal and SIGKILL"},
			&cli.StringFlag{Name: "metrics-addr", Usage: "serve Prometheus metrics at http://`ADDR`/metrics (host:port, for example 127.0.0.1:9102; off when empty): starts and hot reloads by result, quarantined snippets, instances by state"},
			rayVersionFlag(),
		),
		Action: func(c *cli.Context) error {
			return runAction(c, out)
		},
	}
}

func runAction(c *cli.Context, out *output) error {
	argv, err := childArgv(c)
	if err != nil {
		return err
	}
	policy, err := shim.ParseOnPatchError(c.String("on-patch-error"))
	if err != nil {
		return fmt.Errorf("--on-patch-error: %v", err)
	}
	// The supervisor takes a zero or negative grace period as "the default",
	// so --grace-period 0 would wait 10s where the user asked for none.
	if g := c.Duration("grace-period"); g <= 0 {
		return fmt.Errorf("--grace-period must be above 0, not %s (it is the wait between a forwarded stop signal and SIGKILL)", g)
	}
	release, err := rayRelease(c)
	if err != nil {
		return err
	}
	// haproxy asks for about 2 x maxconn open files and fails at every
	// start when the hard limit is lower. What run starts inherits the soft
	// limit raised to the hard one; loadEnv refuses a maxconn even that
	// cannot hold, before anything starts.
	if err := launch.RaiseFileLimit(); err != nil {
		out.warnf("raising the open-file limit: %v", err)
	}
	env, err := loadEnv(c, out, release, true)
	if err != nil {
		return err
	}
	overridesDir, err := filepath.Abs(c.String("overrides"))
	if err != nil {
		return err
	}
	o, loadErrs, err := loadOverrides(c, out)
	if err != nil {
		return err
	}
	explicit := c.String("haproxy")
	if explicit == "" {
		if s, ok := env.Setting("RAY_SERVE_HAPROXY_BINARY_PATH"); ok && s.Set && !s.Unset {
			explicit = s.Value
		}
	}
	real, err := shim.ResolveRealHAProxy(explicit, os.Getenv("PATH"))
	if err != nil {
		return fmt.Errorf("finding the real haproxy: %v", err)
	}
	if err := checkBinary(c, real); err != nil {
		return err
	}
	if !c.Bool("skip-preflight") {
		rayEnv := launch.Lookup(env.ChildEnviron(os.Environ()))
		if err := launch.Preflight(c.Context, env, o, real, rayEnv); err != nil || len(loadErrs) > 0 {
			out.errorf("preflight: nothing started: the snippets do not load, apply or pass haproxy -c on the configs in Ray %s's shape", release.Name())
			return reportAll(out, loadErrs.Err(), err)
		}
	} else if len(loadErrs) > 0 {
		return reportAll(out, loadErrs.Err())
	}
	shimPath, err := launch.FindShim(os.Args[0], os.Getenv)
	if err != nil {
		return err
	}
	// Held open for as long as Ray runs: Ray runs the shimPath through this
	// descriptor (see shim.ShimBinaryPath).
	shimFile, err := os.Open(shimPath)
	if err != nil {
		return fmt.Errorf("the shim: %v", err)
	}
	defer shimFile.Close()
	sd, err := openStateDir(c)
	if err != nil {
		return err
	}
	shimDir, err := state.ShimDir(sd, shimPath)
	if err != nil {
		return err
	}
	childEnv := launch.ChildEnviron(launch.ChildConfig{
		Env: env, Base: os.Environ(), ShimDir: shimDir, ShimBinary: shim.ShimBinaryPath(os.Getpid(), shimFile.Fd()),
		Shim: shim.ShimEnv{
			StateDir: sd.Path(), OverridesDir: overridesDir, RealHAProxy: real,
			OnPatchError: policy, NoProvenance: c.Bool("no-provenance"),
			InsecureOverrides: c.Bool("insecure-overrides"), LauncherPID: os.Getpid(),
		},
	})
	// A command that cannot start exits 127 (not found) or 126 (not
	// executable), as in a shell, so a start script can tell it from a
	// failure of the command itself.
	path, err := lookPathIn(argv[0], childEnv)
	if err != nil {
		return exitWith(127, err)
	}

	ctx, cancel := context.WithCancel(c.Context)
	defer cancel()
	// The watcher and SIGHUP may both ask for a reload; one at a time, so a
	// second SIGUSR2 never lands while the first reload waits for its worker.
	var reloading sync.Mutex
	reloader := &launch.Reloader{
		Dir: overridesDir, State: sd,
		// Only the haproxy started under this launcher: another one sharing
		// the sd dir has its own overrides.d and environment.
		Scope:        hotreload.ReloadScope{LauncherPID: os.Getpid()},
		NoProvenance: c.Bool("no-provenance"), InsecureOverrides: c.Bool("insecure-overrides"),
		Getenv: launch.Lookup(childEnv), Policy: policy,
		Warn: func(m string) { out.warnf("%s", m) },
	}
	reload := func() {
		reloading.Lock()
		defer reloading.Unlock()
		reloadOverrides(ctx, out, reloader)
	}
	defer state.RegisterLauncher(sd, os.Getpid())()
	if addr := c.String("metrics-addr"); addr != "" {
		l, err := metrics.Listen(addr)
		if err != nil {
			return fmt.Errorf("--metrics-addr: %v", err)
		}
		col := metrics.NewCollector(sd, os.Getpid(), version)
		go func() {
			if err := metrics.Serve(ctx, l, col); err != nil {
				out.errorf("metrics at %s stopped: %v", addr, err)
			}
		}()
	}
	guard := &state.Guard{State: sd, Shim: shimPath, LauncherPID: os.Getpid(),
		Report: func(msg string) { out.errorf("%s", msg) }}
	go guard.Run(ctx)
	if !c.Bool("no-watch") {
		go func() {
			if err := hotreload.Watch(ctx, overridesDir, reload); err != nil {
				out.warnf("watching %s stopped: %v", overridesDir, err)
			}
		}()
	}
	sup := &proc.Supervisor{
		Path: path, Args: argv, Env: childEnv,
		GracePeriod: c.Duration("grace-period"),
		OnReload:    reload,
		StateDir:    sd,
		Log:         logWriter{out},
	}
	code, err := sup.Run(ctx)
	if err != nil {
		return exitWith(max(code, 1), err)
	}
	if code != 0 {
		return exitWith(code, nil)
	}
	return nil
}

// childArgv is the command to run: the arguments after "--" as given, or
// "serve run" with the positional arguments.
func childArgv(c *cli.Context) ([]string, error) {
	args := c.Args().Slice()
	if dashDash(c) {
		if len(args) == 0 {
			return nil, errors.New("nothing to run after --")
		}
		return args, nil
	}
	if len(args) == 0 {
		return nil, errors.New("nothing to run: give the application (serve-launch run app.yaml) or a command after -- (serve-launch run -- ray start --head --block)")
	}
	return append([]string{"serve", "run"}, args...), nil
}

// dashDash reports whether the command line of run has a "--"; urfave/cli
// drops it, and it decides between "serve run ARGS" and a command of its own.
func dashDash(c *cli.Context) bool {
	raw, _ := c.App.Metadata["args"].([]string)
	seenRun := false
	for _, a := range raw {
		if a == "run" {
			seenRun = true
		}
		if seenRun && a == "--" {
			return true
		}
	}
	return false
}

// lookPathIn finds the command run starts, on the PATH it gives the
// command (which has the shim's directory first). A path is left to the
// start, which tells a missing program (127) from one it cannot run (126).
func lookPathIn(name string, env []string) (string, error) {
	if strings.Contains(name, "/") {
		return name, nil
	}
	p, err := execpath.LookPath(name, envmap.FromEnviron(env)["PATH"], nil)
	if errors.Is(err, execpath.ErrNotFound) {
		return "", fmt.Errorf("%s: command not found on PATH", name)
	}
	return p, err
}

// loadEnv loads and checks the RAY_SERVE_HAPROXY_* settings for Ray
// release, printing warnings, and refuses on errors. starts is set where
// the command starts haproxy (run): a maxconn the open-file limit cannot
// hold is an error there.
func loadEnv(c *cli.Context, out *output, release envmap.Release, starts bool) (*envmap.Env, error) {
	env, err := envmap.Load(envmap.Options{
		EnvFiles:    c.StringSlice("env-file"),
		Environ:     os.Environ(),
		EnvFileWins: c.Bool("env-file-wins"),
		Perm:        fileChecker(c), InsecureFiles: insecure(c),
		Release:          release,
		FileLimitIsError: starts,
	})
	if env != nil {
		for _, w := range env.Warnings() {
			out.warnf("%s", w)
		}
	}
	if err != nil {
		var errs envmap.Errors
		if errors.As(err, &errs) {
			for _, e := range errs {
				out.errorf("%s", e)
			}
			return nil, exitWith(1, nil)
		}
		return nil, err
	}
	return env, nil
}

// reloadOverrides re-patches and gracefully reloads every live haproxy
// started under this launcher with the overrides as they are now, and says
// what it did. A change with a snippet file that fails changes nothing and
// is reported, file:line and all.
func reloadOverrides(ctx context.Context, out *output, r *launch.Reloader) {
	rep, loadErr, err := r.Reload(ctx)
	if loadErr != nil {
		out.errorf("overrides changed but are not valid; haproxy keeps its current config:")
		_ = reportErrors(out, loadErr)
	}
	if err != nil && loadErr == nil {
		out.errorf("reload: %v", err)
	}
	for _, res := range rep.Instances {
		switch res.Outcome {
		case hotreload.OutcomeReloaded:
			out.infof("reloaded haproxy %d (%s)", res.MasterPID, res.Generated)
		case hotreload.OutcomeUnchanged:
			// Silent, but for a record brought up to date: the user who
			// fixed a snippet hears that it took.
			if res.Detail != "" {
				out.infof("haproxy %d (%s) %s", res.MasterPID, res.Generated, res.Detail)
			}
		case hotreload.OutcomeFailed:
			if loadErr != nil {
				break // said above
			}
			out.errorf("reload of haproxy %d (%s) failed, it keeps its current config: %s", res.MasterPID, res.Generated, res.Detail)
		case hotreload.OutcomeSkipped:
			// Not an error, but these overrides do not reach that haproxy
			// until Ray restarts it: say so.
			out.warnf("haproxy %d (%s) not reloaded: %s", res.MasterPID, res.Generated, res.Detail)
		}
	}
}

// logWriter turns the supervisor's log lines into launcher messages.
type logWriter struct{ out *output }

func (w logWriter) Write(p []byte) (int, error) {
	// The supervisor's lines already carry the "serve-launch: " prefix
	// that infof adds.
	msg := strings.TrimPrefix(string(p), "serve-launch: ")
	w.out.infof("%s", msg)
	return len(p), nil
}
