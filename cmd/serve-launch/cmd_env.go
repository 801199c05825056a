package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"github.com/serve-launch/serve-launch/internal/envmap"
)

func envCommand(out *output) *cli.Command {
	return &cli.Command{
		Name:      "env",
		Usage:     "show and check the RAY_SERVE_HAPROXY_* settings Ray will see",
		ArgsUsage: " ",
		Description: `env loads the env files and the process environment the way "serve-launch run"
does, checks every Ray Serve HAProxy variable, and prints each one with the value
Ray will use, where it came from (default, FILE:LINE or environment) and the
haproxy.cfg directive it produces. It then lists the settings no variable reaches,
with the overrides.d snippet that covers each.

Env files use the format of systemd EnvironmentFile and docker --env-file.
Precedence, lowest first: Ray's default; each --env-file in order (a later file
wins); the process environment, unless --env-file-wins, which makes the files
win over it. A line "KEY=" unsets KEY for Ray: Ray uses its default and KEY is
removed from the environment Ray starts with.

Everything follows the Ray you run, --ray-version (2.55 by default): its
defaults, and which variables it reads. A variable it does not read says so
in its row, never as in force, and a value set for one is a warning naming
the Ray that reads it. The list of settings no variable reaches is that
Ray's.

Unknown or misspelt names, settings the target Ray ignores, and values that
cannot work on this machine (for example a maxconn that needs more open files
than the hard limit allows, which "serve-launch run" refuses) are warnings; a
value of the wrong type is an error, and env then exits 1. With --strict, for
a CI check of an env file, an unknown RAY_SERVE_* name or a setting the target
Ray ignores is an error too.

--format table (default) is for people; --format env prints an env file of the
values that differ from Ray's defaults, which loads back to the same settings;
--format json is for tools and is printed even when there are errors.

Example:
   serve-launch env --env-file serve.env
   serve-launch env --env-file base.env --env-file node.env --format env > merged.env
   serve-launch env --env-file serve.env --ray-version master --strict`,
		Flags: []cli.Flag{
			&cli.StringSliceFlag{Name: "env-file", Usage: "read `FILE` (repeatable; a later file wins)"},
			&cli.BoolFlag{Name: "env-file-wins", Usage: "let the env files win over the process environment"},
			&cli.StringFlag{Name: "format", Value: "table", Usage: "output `FORMAT`: table, env or json"},
			&cli.BoolFlag{Name: "strict", Usage: "make an unknown RAY_SERVE_* name, or a setting the target Ray ignores, an error (for CI)"},
			rayVersionFlag(),
		},
		Action: func(c *cli.Context) error {
			if err := noArgs(c); err != nil {
				return err
			}
			format := c.String("format")
			switch format {
			case "table", "env", "json":
			default:
				return fmt.Errorf("unknown --format %q: use table, env or json", format)
			}
			release, err := rayRelease(c)
			if err != nil {
				return err
			}
			env, err := envmap.Load(envmap.Options{
				EnvFiles:    c.StringSlice("env-file"),
				Environ:     os.Environ(),
				EnvFileWins: c.Bool("env-file-wins"),
				Release:     release,
				Strict:      c.Bool("strict"),
			})
			for _, d := range env.Warnings() {
				out.warnf("%s", d)
			}
			for _, d := range env.Errors() {
				out.errorf("%s", d)
			}
			if format == "json" {
				if werr := writeEnvJSON(out, env); werr != nil {
					return werr
				}
			}
			if err != nil {
				return exitWith(1, nil)
			}
			switch format {
			case "env":
				return env.WriteEnvFile(out.stdout)
			case "table":
				return writeEnvTable(out, env)
			}
			return nil
		},
	}
}

// writeEnvTable prints every variable, then the gaps no variable reaches,
// both for the env's release.
func writeEnvTable(out *output, env *envmap.Env) error {
	release := env.Release()
	tw := tabwriter.NewWriter(out.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "VARIABLE\tVALUE\tSOURCE\tDIRECTIVE")
	for _, s := range env.Settings() {
		value, source, effect := s.Value, s.Source.String(), envEffect(s, release)
		switch {
		case s.Ignored && !s.Set:
			// Nothing is in force: no value, no default, only what says so.
			value, source = "-", "-"
			if s.Unset {
				source = "unset at " + s.Source.String()
			}
		case s.Unset:
			source = "default (unset at " + source + ")"
			if s.Var.Omitted {
				value = "(unset)"
			}
		case !s.Set && s.Var.Omitted:
			value = "(unset)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", s.Var.Name, value, source, effect)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(out.stdout)
	fmt.Fprintf(out.stdout, "Settings no variable reaches in Ray %s, and the overrides.d snippet for each:\n", release.Name())
	tw = tabwriter.NewWriter(out.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "SETTING\tSECTION\tRAY %s GENERATES\tSNIPPET\n", strings.ToUpper(release.Name()))
	for _, g := range envmap.Gaps(release) {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", g.Setting, g.Section, g.Ray, g.Snippet)
	}
	return tw.Flush()
}

// envEffect is what a setting drives in Ray release, for the table: the
// directive with its section, or that the release does not read it.
func envEffect(s envmap.Setting, release envmap.Release) string {
	if s.Ignored {
		return s.Var.NotRead(release)
	}
	effect := s.Var.Effect(s.Value, s.Set)
	if s.Var.Section != "" && effect != "(omitted)" {
		effect = s.Var.Section + ": " + effect
	}
	return effect
}

type envJSON struct {
	RayVersion string           `json:"ray_version"`
	Variables  []envVarJSON     `json:"variables"`
	Gaps       []envGapJSON     `json:"gaps"`
	Warnings   []envMessageJSON `json:"warnings"`
	Errors     []envMessageJSON `json:"errors"`
}

type envVarJSON struct {
	Name      string   `json:"name"`
	Type      string   `json:"type"`
	Values    []string `json:"values,omitempty"`
	Value     string   `json:"value"`
	Default   string   `json:"default"`
	Omitted   bool     `json:"omitted_when_unset"`
	Set       bool     `json:"set"`
	Unset     bool     `json:"unset"`
	Source    string   `json:"source"`
	Section   string   `json:"section"`
	Directive string   `json:"directive"`
	Read      bool     `json:"read"`
	Versions  string   `json:"versions"`
	Doc       string   `json:"doc"`
}

type envGapJSON struct {
	Setting string `json:"setting"`
	Section string `json:"section"`
	Ray     string `json:"ray"`
	Snippet string `json:"snippet"`
}

type envMessageJSON struct {
	Source   string `json:"source"`
	Variable string `json:"variable"`
	Message  string `json:"message"`
}

func writeEnvJSON(out *output, env *envmap.Env) error {
	release := env.Release()
	doc := envJSON{RayVersion: release.Name(), Variables: []envVarJSON{}, Gaps: []envGapJSON{}, Warnings: []envMessageJSON{}, Errors: []envMessageJSON{}}
	for _, s := range env.Settings() {
		v := envVarJSON{
			Name: s.Var.Name, Type: string(s.Var.Kind), Values: s.Var.Values,
			Value: s.Value, Default: s.Var.DefaultIn(release), Omitted: s.Var.Omitted,
			Set: s.Set, Unset: s.Unset, Source: s.Source.String(),
			Section: s.Var.Section, Directive: s.Var.Effect(s.Value, s.Set), Read: !s.Ignored,
			Versions: s.Var.Versions, Doc: s.Var.Doc,
		}
		if s.Ignored {
			v.Directive = s.Var.NotRead(release)
		}
		doc.Variables = append(doc.Variables, v)
	}
	for _, g := range envmap.Gaps(release) {
		doc.Gaps = append(doc.Gaps, envGapJSON(g))
	}
	for _, d := range env.Diagnostics() {
		m := envMessageJSON{Source: d.Source.String(), Variable: d.Name, Message: d.Message}
		if d.Severity == envmap.Error {
			doc.Errors = append(doc.Errors, m)
		} else {
			doc.Warnings = append(doc.Warnings, m)
		}
	}
	enc := json.NewEncoder(out.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}
