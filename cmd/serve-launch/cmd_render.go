package main

import (
	"bufio"
	"os"

	"github.com/urfave/cli/v2"
)

func renderCommand(out *output) *cli.Command {
	return &cli.Command{
		Name:      "render",
		Usage:     "print a generated haproxy.cfg with the overrides applied",
		ArgsUsage: " ",
		Description: `Reads the config Ray generated, applies every snippet of the overrides
directory in file-name order and prints the result. With an empty overrides
directory the output is byte-identical to the input.

Example:
   serve-launch render --config /tmp/haproxy-serve/haproxy.cfg --overrides overrides.d`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "config", Usage: "generated config to patch (- for stdin; required)"},
			overridesFlag(),
			insecureOverridesFlag(),
			noProvenanceFlag(),
		},
		Action: func(c *cli.Context) error {
			if err := noArgs(c); err != nil {
				return err
			}
			if err := requireFlag(c, "config"); err != nil {
				return err
			}
			o, loadErrs, err := loadOverrides(c, out)
			if err != nil {
				return err
			}
			_, f, err := patchConfig(c, out, o, loadErrs, os.LookupEnv)
			if err != nil {
				return err
			}
			// Streamed: a config of thousands of servers is not built in
			// memory a second time only to be printed.
			w := bufio.NewWriterSize(out.stdout, 64<<10)
			if _, err := f.WriteTo(w); err != nil {
				return err
			}
			return w.Flush()
		},
	}
}
