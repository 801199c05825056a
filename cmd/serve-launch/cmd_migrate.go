package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/serve-launch/serve-launch/internal/migrate"
	"github.com/serve-launch/serve-launch/internal/patch/config"
	"github.com/urfave/cli/v2"
)

func migrateCommand(out *output) *cli.Command {
	return &cli.Command{
		Name:      "migrate",
		Usage:     "turn a hand-tuned haproxy.cfg into an env file and an override snippet for Ray's config",
		ArgsUsage: " ",
		Description: `Maps every setting of your own haproxy.cfg onto Ray's generated config:
a RAY_SERVE_HAPROXY_* variable in DIR/serve.env where one exists, an edit in
DIR/overrides.d/50-migrated.toml where none does, nothing where Ray already
says the same. Server lines are Ray's to write; their shared parameters become
default-server params. Values that look derived from the server count (6 x 512)
are written as templates. The report on stdout lists every setting: yours,
Ray's, and how it was carried over, or why it was not.

Without --generated, Ray 2.55's config rendered from Ray's defaults is the
reference. The snippet is applied to it (rendered with the env file) before
the command succeeds; with --check, haproxy -c checks the result too.
Running it twice gives the same files.

Example:
   serve-launch migrate --from /etc/haproxy/haproxy.cfg --out migrated
   serve-launch check --config /tmp/haproxy-serve/haproxy.cfg --overrides migrated/overrides.d`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "from", Usage: "your haproxy.cfg (required)"},
			&cli.StringFlag{Name: "generated", Usage: "a haproxy.cfg Ray generated, to compare with (default: Ray 2.55's shape from Ray's defaults)"},
			&cli.StringFlag{Name: "out", Usage: "output directory for serve.env and overrides.d/", Value: "./migrated"},
			&cli.BoolFlag{Name: "check", Usage: "also run haproxy -c on Ray's config with the migration applied"},
			&cli.StringFlag{Name: "haproxy", Usage: "the real haproxy binary, for --check", Value: "haproxy"},
		},
		Action: func(c *cli.Context) error {
			if err := noArgs(c); err != nil {
				return err
			}
			if err := requireFlag(c, "from"); err != nil {
				return err
			}
			opts := migrate.Options{Name: c.String("from")}
			var err error
			if opts.Name, opts.Data, err = readConfigFile(c, opts.Name); err != nil {
				return err
			}
			// Named as the report, the env file and the snippet cite them.
			opts.Name = relPath(opts.Name)
			if g := c.String("generated"); g != "" {
				if opts.GeneratedName, opts.Generated, err = readConfigFile(c, g); err != nil {
					return err
				}
				opts.GeneratedName = relPath(opts.GeneratedName)
			}
			res, err := migrate.Migrate(opts)
			if err != nil {
				return reportErrors(out, err)
			}
			// Apply before writing, so a failed migration leaves no files
			// that look usable.
			f, err := res.Verify()
			if err != nil {
				out.errorf("the migrated snippet does not apply to %s; please report this with your config", res.GeneratedName)
				return reportErrors(out, err)
			}
			dir := c.String("out")
			if err := res.WriteDir(dir); err != nil {
				return err
			}
			dir = relPath(dir)
			if _, err := out.stdout.Write(res.Report()); err != nil {
				return err
			}
			if res.HasSnippet() {
				fmt.Fprintf(out.stdout, "\nwrote %s and %s\n", filepath.Join(dir, migrate.EnvFileName), filepath.Join(dir, migrate.SnippetDir, migrate.SnippetName))
			} else {
				fmt.Fprintf(out.stdout, "\nwrote %s (no snippet needed)\n", filepath.Join(dir, migrate.EnvFileName))
			}
			out.hintf("next: serve-launch check --env-file %s --overrides %s (Ray's first start and a config with apps; --config checks a haproxy.cfg your Ray generated)",
				filepath.Join(dir, migrate.EnvFileName), filepath.Join(dir, migrate.SnippetDir))
			if res.Servers == 0 {
				out.warnf("%s: no backend or listen section has server lines, so no replica settings were found", opts.Name)
			}
			if !c.Bool("check") {
				return nil
			}
			return checkMigrated(c, out, res, f)
		},
	}
}

// checkMigrated runs haproxy -c on the migrated config, f as res.Verify
// returned it.
func checkMigrated(c *cli.Context, out *output, res *migrate.Result, f *config.File) error {
	hap, err := checkedHAProxy(c)
	if err != nil {
		return err
	}
	checked, err := res.Check(c.Context, hap, f)
	if err != nil {
		return reportErrors(out, err)
	}
	if err := reportCheck(c, out, checked, false, nil); err != nil {
		return err
	}
	fmt.Fprintf(out.stdout, "ok: haproxy -c accepts %s with the migration applied\n", f.Name)
	return nil
}

// relPath names path relative to the working directory when it is inside
// it, so that the report does not repeat a long absolute path; a path
// elsewhere stays as given.
func relPath(path string) string {
	if !filepath.IsAbs(path) {
		return path
	}
	wd, err := os.Getwd()
	if err != nil {
		return path
	}
	rel, err := filepath.Rel(wd, path)
	if err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
		return path
	}
	return rel
}
