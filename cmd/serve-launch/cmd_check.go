package main

import (
	"fmt"
	"os"

	"github.com/serve-launch/serve-launch/internal/audit"
	"github.com/serve-launch/serve-launch/internal/launch"
	"github.com/serve-launch/serve-launch/internal/patch"
	"github.com/urfave/cli/v2"
)

func checkCommand(out *output) *cli.Command {
	return &cli.Command{
		Name:      "check",
		Usage:     "validate the snippets, and with --config the patched config through haproxy -c",
		ArgsUsage: " ",
		Description: `Loads and validates every snippet of the overrides directory, reporting all
errors with their file:line. With --config it also patches that config and runs
"haproxy -c -f" on the result; when haproxy rejects a line a snippet wrote, the
message names the snippet file:line as well as haproxy's own words.
Exits non-zero on any error.

With --audit it also warns about risky settings of the generated config (of
--config, or else of a config in Ray 2.55's shape rendered from your settings):
an admin socket any local user can connect to (Ray's "mode 666"), and the stats
page and Prometheus metrics bound on all interfaces. Each warning names the
example snippet in overrides.d that fixes it. Warnings do not change the exit
status.

Example:
   serve-launch check --config /tmp/haproxy-serve/haproxy.cfg --overrides overrides.d
   serve-launch check --audit --env-file serve.env`,
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "config", Usage: "generated config to patch and check with haproxy -c (- for stdin)"},
			&cli.BoolFlag{Name: "audit", Usage: "also warn about risky settings of the patched config (without --config: of a config in Ray 2.55's shape from your settings)"},
			overridesFlag(),
			insecureOverridesFlag(),
			&cli.StringFlag{Name: "haproxy", Usage: "the real haproxy binary", Value: "haproxy"},
			&cli.BoolFlag{Name: "verbose", Usage: "also print haproxy's warnings about lines of the generated config"},
		}, envFileFlags()...),
		Action: func(c *cli.Context) error {
			if err := noArgs(c); err != nil {
				return err
			}
			o, err := loadOverrides(c, out)
			if err != nil {
				return err
			}
			if c.String("config") == "" {
				if c.Bool("audit") {
					if err := auditRayConfig(c, out, o); err != nil {
						return err
					}
				}
				fmt.Fprintf(out.stdout, "ok: %d snippets in %s load\n", len(o.Snippets), o.Dir)
				return nil
			}
			_, f, err := patchConfig(c, out, o)
			if err != nil {
				return err
			}
			if c.Bool("audit") {
				printFindings(out, audit.Config(f))
			}
			if err := haproxyCheck(c, out, f, true); err != nil {
				return err
			}
			fmt.Fprintf(out.stdout, "ok: %d snippets applied to %s; haproxy -c accepts the result\n", len(o.Snippets), f.Name)
			return nil
		},
	}
}

// auditRayConfig audits the preflight's config in Ray 2.55's shape
// ([launch.RayConfig]), rendered from the user's settings (env files and
// environment), with the overrides applied.
func auditRayConfig(c *cli.Context, out *output, o *patch.Overrides) error {
	env, err := loadEnv(c, out)
	if err != nil {
		return err
	}
	cfg, err := launch.RayConfig(launch.RayVars(env))
	if err != nil {
		return err
	}
	f, err := patch.Parse(launch.RayConfigName, cfg)
	if err != nil {
		return reportErrors(out, err)
	}
	// Snippets' env sees Ray's environment, as in the shim and the preflight.
	getenv := launch.Lookup(env.ChildEnviron(os.Environ()))
	if err := o.Apply(f, patch.ApplyOptions{Getenv: getenv, NoProvenance: true}); err != nil {
		return reportErrors(out, err)
	}
	printFindings(out, audit.Config(f))
	return nil
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
