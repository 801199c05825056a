package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/serve-launch/serve-launch/internal/patch"
	"github.com/urfave/cli/v2"
)

// MaxConfigSize bounds a config read by render, diff and check.
const maxConfigSize = 64 << 20

func overridesFlag() cli.Flag {
	return &cli.StringFlag{
		Name:    "overrides",
		Usage:   "directory of override snippets (*.toml, applied in file-name order)",
		Value:   "./overrides.d",
		EnvVars: []string{"SERVE_LAUNCH_OVERRIDES"},
	}
}

func noProvenanceFlag() cli.Flag {
	return &cli.BoolFlag{
		Name:  "no-provenance",
		Usage: "leave out the \"# serve-launch: FILE:LINE\" comment on lines snippets write",
	}
}

// insecureOverridesFlag turns off the permission checks of the overrides:
// whoever can write a snippet controls haproxy (which can load Lua), so by
// default the directory and each snippet must be writable by their owner
// only and owned by this user or root, as sshd's StrictModes requires.
func insecureOverridesFlag() cli.Flag {
	return &cli.BoolFlag{
		Name:  "insecure-overrides",
		Usage: "load snippets even when the overrides directory or a snippet is writable by group or others, or owned by another user than you or root",
	}
}

// loadOverrides loads the snippets named by --overrides, printing warnings
// and every error.
func loadOverrides(c *cli.Context, out *output) (*patch.Overrides, error) {
	o, err := patch.LoadDir(c.String("overrides"), patch.LoadOptions{
		Warn:              func(msg string) { out.warnf("%s", msg) },
		InsecureOverrides: c.Bool("insecure-overrides"),
	})
	if err != nil {
		return nil, reportErrors(out, err)
	}
	return o, nil
}

// reportErrors prints each error of an ErrorList on its own line and returns
// an error that is already printed.
func reportErrors(out *output, err error) error {
	var list patch.ErrorList
	if errors.As(err, &list) {
		for _, e := range list {
			out.errorf("%s", e)
		}
		return exitWith(1, nil)
	}
	return err
}

// readConfig reads --config, "-" meaning stdin.
func readConfig(c *cli.Context) (string, []byte, error) {
	name := c.String("config")
	var r io.Reader
	if name == "-" {
		r = c.App.Reader
		if r == nil {
			r = os.Stdin
		}
		name = "<stdin>"
	} else {
		f, err := os.Open(name)
		if err != nil {
			return "", nil, err
		}
		defer f.Close()
		r = f
	}
	data, err := io.ReadAll(io.LimitReader(r, maxConfigSize+1))
	if err != nil {
		return "", nil, fmt.Errorf("%s: %v", name, err)
	}
	if len(data) > maxConfigSize {
		return "", nil, fmt.Errorf("%s: config is larger than the limit of %d bytes", name, maxConfigSize)
	}
	return name, data, nil
}

// patchConfig reads --config, applies the overrides and returns the generated
// bytes and the patched file.
func patchConfig(c *cli.Context, out *output, o *patch.Overrides) ([]byte, *patch.File, error) {
	name, data, err := readConfig(c)
	if err != nil {
		return nil, nil, err
	}
	f, err := patch.Parse(name, data)
	if err != nil {
		return nil, nil, reportErrors(out, err)
	}
	if err := o.Apply(f, patch.ApplyOptions{NoProvenance: c.Bool("no-provenance")}); err != nil {
		return nil, nil, reportErrors(out, err)
	}
	return data, f, nil
}
