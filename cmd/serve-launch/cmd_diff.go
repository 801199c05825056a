package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/pmezard/go-difflib/difflib"
	"github.com/urfave/cli/v2"
	"golang.org/x/sys/unix"
)

func diffCommand(out *output) *cli.Command {
	return &cli.Command{
		Name:      "diff",
		Usage:     "show what the overrides change in a generated haproxy.cfg",
		ArgsUsage: " ",
		Description: `Prints a unified diff from the generated config to the patched one.
Exit status, as diff(1): 0 when the overrides change nothing, 1 when they
change something, 2 on an error.

Example:
   serve-launch diff --config /tmp/haproxy-serve/haproxy.cfg`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "config", Usage: "generated config to patch (- for stdin; required)"},
			overridesFlag(),
			insecureOverridesFlag(),
			noProvenanceFlag(),
			&cli.StringFlag{Name: "color", Usage: "colour the diff: auto, always or never", Value: "auto"},
		},
		Action: func(c *cli.Context) error {
			if err := noArgs(c); err != nil {
				return asExit2(err)
			}
			if err := requireFlag(c, "config"); err != nil {
				return asExit2(err)
			}
			switch mode := c.String("color"); mode {
			case "auto", "always", "never":
			default:
				return asExit2(fmt.Errorf("unknown --color %q: use auto, always or never", mode))
			}
			o, loadErrs, err := loadOverrides(c, out)
			if err != nil {
				return asExit2(err)
			}
			generated, f, err := patchConfig(c, out, o, loadErrs, os.LookupEnv)
			if err != nil {
				return asExit2(err)
			}
			name := f.Name
			text, err := difflib.GetUnifiedDiffString(difflib.UnifiedDiff{
				A:        difflib.SplitLines(string(generated)),
				B:        difflib.SplitLines(string(f.Render())),
				FromFile: name + " (generated)",
				ToFile:   name + " (patched)",
				Context:  3,
			})
			if err != nil {
				return asExit2(err)
			}
			if text == "" {
				return nil
			}
			if useColor(c.String("color"), out) {
				text = colorDiff(text)
			}
			if _, err := out.stdout.Write([]byte(text)); err != nil {
				return asExit2(err)
			}
			return exitWith(1, nil)
		},
	}
}

// asExit2 gives an error diff's "trouble" status.
// An error already printed (an exitError without its own) stays unprinted.
func asExit2(err error) error {
	var ee *exitError
	if errors.As(err, &ee) {
		return exitWith(2, ee.err)
	}
	return exitWith(2, err)
}

func useColor(mode string, out *output) bool {
	switch mode {
	case "always":
		return true
	case "never":
		return false
	}
	if os.Getenv("NO_COLOR") != "" {
		return false
	}
	f, ok := out.stdout.(*os.File)
	if !ok {
		return false
	}
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

func colorDiff(text string) string {
	lines := strings.SplitAfter(text, "\n")
	for i, l := range lines {
		switch {
		case strings.HasPrefix(l, "+++"), strings.HasPrefix(l, "---"):
			lines[i] = "\x1b[1m" + strings.TrimSuffix(l, "\n") + "\x1b[0m\n"
		case strings.HasPrefix(l, "+"):
			lines[i] = "\x1b[32m" + strings.TrimSuffix(l, "\n") + "\x1b[0m\n"
		case strings.HasPrefix(l, "-"):
			lines[i] = "\x1b[31m" + strings.TrimSuffix(l, "\n") + "\x1b[0m\n"
		case strings.HasPrefix(l, "@@"):
			lines[i] = "\x1b[36m" + strings.TrimSuffix(l, "\n") + "\x1b[0m\n"
		}
	}
	return strings.Join(lines, "")
}
