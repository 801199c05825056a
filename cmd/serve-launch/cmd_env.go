package main

import (
	"encoding/json"
	"fmt"
	"os"
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

Unknown or misspelt names and values that cannot work on this machine (for
example a maxconn that needs more open files than ulimit -n allows) are
warnings; a value of the wrong type is an error, and env then exits 1.

--format table (default) is for people; --format env prints an env file of the
values that differ from Ray's defaults, which loads back to the same settings;
--format json is for tools and is printed even when there are errors.

Example:
   serve-launch env --env-file serve.env
   serve-launch env --env-file base.env --env-file node.env --format env > merged.env`,
		Flags: []cli.Flag{
			&cli.StringSliceFlag{Name: "env-file", Usage: "read `FILE` (repeatable; a later file wins)"},
			&cli.BoolFlag{Name: "env-file-wins", Usage: "let the env files win over the process environment"},
			&cli.StringFlag{Name: "format", Value: "table", Usage: "output `FORMAT`: table, env or json"},
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
			env, err := envmap.Load(envmap.Options{
				EnvFiles:    c.StringSlice("env-file"),
				Environ:     os.Environ(),
				EnvFileWins: c.Bool("env-file-wins"),
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

// writeEnvTable prints every variable, then the gaps no variable reaches.
func writeEnvTable(out *output, env *envmap.Env) error {
	tw := tabwriter.NewWriter(out.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "VARIABLE\tVALUE\tSOURCE\tDIRECTIVE")
	for _, s := range env.Settings() {
		value := s.Value
		if !s.Set && s.Var.Omitted {
			value = "(unset)"
		}
		source := s.Source.String()
		if s.Unset {
			source = "default (unset at " + source + ")"
		}
		effect := s.Var.Effect(s.Value, s.Set)
		if s.Var.Section != "" && effect != "(omitted)" {
			effect = s.Var.Section + ": " + effect
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", s.Var.Name, value, source, effect)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(out.stdout)
	fmt.Fprintln(out.stdout, "Settings no variable reaches in Ray 2.55, and the overrides.d snippet for each:")
	tw = tabwriter.NewWriter(out.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SETTING\tSECTION\tRAY 2.55 GENERATES\tSNIPPET")
	for _, g := range envmap.Gaps() {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", g.Setting, g.Section, g.Ray, g.Snippet)
	}
	return tw.Flush()
}

type envJSON struct {
	Variables []envVarJSON     `json:"variables"`
	Gaps      []envGapJSON     `json:"gaps"`
	Warnings  []envMessageJSON `json:"warnings"`
	Errors    []envMessageJSON `json:"errors"`
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
	doc := envJSON{Variables: []envVarJSON{}, Gaps: []envGapJSON{}, Warnings: []envMessageJSON{}, Errors: []envMessageJSON{}}
	for _, s := range env.Settings() {
		doc.Variables = append(doc.Variables, envVarJSON{
			Name: s.Var.Name, Type: string(s.Var.Kind), Values: s.Var.Values,
			Value: s.Value, Default: s.Var.Default, Omitted: s.Var.Omitted,
			Set: s.Set, Unset: s.Unset, Source: s.Source.String(),
			Section: s.Var.Section, Directive: s.Var.Effect(s.Value, s.Set),
			Versions: s.Var.Versions, Doc: s.Var.Doc,
		})
	}
	for _, g := range envmap.Gaps() {
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
