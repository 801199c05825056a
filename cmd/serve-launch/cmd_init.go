package main

import (
	"fmt"
	"path/filepath"

	"github.com/urfave/cli/v2"

	"github.com/serve-launch/serve-launch/internal/perm"
	"github.com/serve-launch/serve-launch/internal/starter"
)

func initCommand(out *output) *cli.Command {
	return &cli.Command{
		Name:      "init",
		Usage:     "write a starter overrides.d and serve.env into DIR (default: the current directory)",
		ArgsUsage: "[DIR]",
		Description: `Writes DIR/overrides.d, holding the example snippets this serve-launch carries
(the ones that cover the settings no RAY_SERVE_HAPROXY_* variable reaches, and
two disabled hardening examples that "check --audit" points to), each headed by
the gaps it covers; and DIR/serve.env, listing every variable Ray reads with
its default and what it drives, all commented out.

It writes nothing when DIR/overrides.d or DIR/serve.env exists. Directories
are created 0755 and files 0644, the modes "check" and "run" accept.

Example:
   serve-launch init /etc/serve
   serve-launch check --env-file /etc/serve/serve.env --overrides /etc/serve/overrides.d`,
		Action: func(c *cli.Context) error {
			if c.NArg() > 1 {
				return fmt.Errorf("init takes one directory, got %d arguments", c.NArg())
			}
			dir := "."
			if c.NArg() == 1 {
				dir = c.Args().First()
			}
			written, err := starter.Write(dir, c.App.Version)
			if err != nil {
				return err
			}
			for _, p := range written {
				fmt.Fprintf(out.stdout, "wrote %s\n", p)
			}
			// The modes are right; the directory around them may not be
			// (one that group or others can write): say so now, not at
			// the first run.
			env, od := filepath.Join(dir, starter.EnvFile), filepath.Join(dir, starter.OverridesDir)
			pc := perm.New(nil, "")
			for _, p := range []*perm.Problem{pc.CheckFile(env, "env file"), pc.CheckPath(od, "overrides directory")} {
				if p != nil {
					out.warnf("%s", p)
				}
			}
			out.hintf("next: serve-launch env --env-file %s, then serve-launch check --env-file %s --overrides %s, then serve-launch run --env-file %s --overrides %s -- serve run app.yaml", env, env, od, env, od)
			return nil
		},
	}
}
