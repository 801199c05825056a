package main

import (
	"fmt"
	"os/exec"

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

Example:
   serve-launch check --config /tmp/haproxy-serve/haproxy.cfg --overrides overrides.d`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "config", Usage: "generated config to patch and check with haproxy -c (- for stdin)"},
			overridesFlag(),
			insecureOverridesFlag(),
			&cli.StringFlag{Name: "haproxy", Usage: "the real haproxy binary", Value: "haproxy"},
			&cli.BoolFlag{Name: "verbose", Usage: "also print haproxy's warnings about lines of the generated config"},
		},
		Action: func(c *cli.Context) error {
			o, err := loadOverrides(c, out)
			if err != nil {
				return err
			}
			if c.String("config") == "" {
				fmt.Fprintf(out.stdout, "ok: %d snippets in %s load\n", len(o.Snippets), o.Dir)
				return nil
			}
			_, f, err := patchConfig(c, out, o)
			if err != nil {
				return err
			}
			hap, err := exec.LookPath(c.String("haproxy"))
			if err != nil {
				return fmt.Errorf("haproxy not found: %v (give --haproxy PATH)", err)
			}
			res, err := patch.Check(c.Context, hap, f)
			if err != nil {
				return err
			}
			// Warnings about Ray's own lines are not the user's to fix; they are
			// counted unless --verbose, so the snippet's warnings stand out.
			hidden := 0
			for _, m := range res.Messages {
				switch {
				case m.Level == "ALERT":
					out.errorf("%s", m)
				case m.FromSnippet || c.Bool("verbose"):
					out.warnf("%s", m)
				default:
					hidden++
				}
			}
			if hidden > 0 {
				out.hintf("haproxy printed %d warnings about the generated config itself; --verbose shows them", hidden)
			}
			if !res.OK {
				if len(res.Messages) == 0 {
					out.errorf("haproxy -c failed:\n%s", res.Output)
				}
				return exitWith(1, nil)
			}
			fmt.Fprintf(out.stdout, "ok: %d snippets applied to %s; haproxy -c accepts the result\n", len(o.Snippets), f.Name)
			return nil
		},
	}
}
