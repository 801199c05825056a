package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/serve-launch/serve-launch/internal/launch"
	"github.com/serve-launch/serve-launch/internal/proc/hotreload"
	"github.com/urfave/cli/v2"
)

func reloadCommand(out *output) *cli.Command {
	return &cli.Command{
		Name:      "reload",
		Usage:     "re-patch and gracefully reload every live haproxy started through the shim",
		ArgsUsage: " ",
		Description: `Does on demand what "serve-launch run" does when overrides.d changes: loads
the snippets, then for every live haproxy in the state dir re-patches the
latest generated file, checks new snippet lines with haproxy -c, and reloads
the master with SIGUSR2. When a snippet file fails to load, to apply or to
pass haproxy -c, it reports every error and changes nothing (each haproxy
keeps its current config), and exits 1.
Sending SIGHUP to "serve-launch run" does the same for the haproxy started
under it. Give reload the
--overrides and --env-file flags run was given: Ray's next own reload patches
with run's.

Example:
   serve-launch reload --overrides overrides.d`,
		Flags: append(envFileFlags(),
			overridesFlag(),
			insecureOverridesFlag(),
			noProvenanceFlag(),
			stateDirFlag(),
			&cli.StringFlag{Name: "format", Value: "text", Usage: "text or json"},
			rayVersionFlag(),
		),
		Action: func(c *cli.Context) error {
			if err := noArgs(c); err != nil {
				return err
			}
			// Checked before anything reloads: a bad --format found after
			// the reload would leave it done and unreported.
			if f := c.String("format"); f != "text" && f != "json" {
				return fmt.Errorf("--format must be text or json, not %q", f)
			}
			// Snippets' env function must see what Ray's environment had at
			// run: give reload the same --env-file flags.
			release, err := rayRelease(c)
			if err != nil {
				return err
			}
			env, err := loadEnv(c, out, release, false)
			if err != nil {
				return err
			}
			warnInsecure(c, out)
			state, err := openStateDir(c)
			if err != nil {
				return err
			}
			// Every live haproxy, whichever launcher started it: reload is
			// the operator's explicit word (its help says to give it run's
			// flags).
			r := &launch.Reloader{
				Dir: c.String("overrides"), State: state,
				NoProvenance: c.Bool("no-provenance"), InsecureOverrides: c.Bool("insecure-overrides"),
				Getenv: launch.Lookup(env.ChildEnviron(os.Environ())),
				Warn:   func(m string) { out.warnf("%s", m) },
			}
			rep, loadErr, err := r.Reload(c.Context)
			if loadErr != nil {
				out.errorf("the overrides are not valid; every haproxy keeps its current config:")
				_ = reportErrors(out, loadErr)
			}
			if c.String("format") == "json" {
				enc := json.NewEncoder(out.stdout)
				enc.SetIndent("", "  ")
				if e := enc.Encode(rep); e != nil {
					return e
				}
			} else {
				for _, r := range rep.Instances {
					line := fmt.Sprintf("%-9s pid %d  %s", r.Outcome, r.MasterPID, r.Generated)
					// Why one failed is said once, on stderr with its
					// file:line: above for overrides that do not load,
					// below (the error returned) for the others.
					if r.Detail != "" && r.Outcome != hotreload.OutcomeFailed {
						line += "  (" + r.Detail + ")"
					}
					fmt.Fprintln(out.stdout, line)
				}
				if len(rep.Instances) == 0 {
					fmt.Fprintf(out.stdout, "no haproxy recorded in %s\n", filepath.Clean(state.Path()))
				}
			}
			if loadErr != nil {
				return exitWith(1, nil) // every error is said above
			}
			if err != nil {
				return err
			}
			for _, r := range rep.Instances {
				if r.Outcome == hotreload.OutcomeFailed {
					return exitWith(1, nil)
				}
			}
			return nil
		},
	}
}
