package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/serve-launch/serve-launch/internal/envmap"
	"github.com/serve-launch/serve-launch/internal/execpath"
	"github.com/serve-launch/serve-launch/internal/patch"
	"github.com/serve-launch/serve-launch/internal/patch/config"
	"github.com/serve-launch/serve-launch/internal/patch/hapcheck"
	"github.com/serve-launch/serve-launch/internal/patch/load"
	"github.com/serve-launch/serve-launch/internal/perm"
	"github.com/serve-launch/serve-launch/internal/proc/state"
	"github.com/urfave/cli/v2"
)

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

// insecureOverridesFlag turns off the permission checks of the files
// serve-launch trusts: whoever can write a snippet, an env file or the
// haproxy binary controls haproxy (which can load Lua), so by default each,
// and the directory holding it, must be writable by its owner only and owned
// by this user or root, as sshd's StrictModes requires.
func insecureOverridesFlag() cli.Flag {
	return &cli.BoolFlag{
		Name:  "insecure-overrides",
		Usage: "load snippets and env files, and run the haproxy binary, even when they or their directory are writable by group or others, or owned by another user than you or root (warns on every use)",
	}
}

// insecure reports whether the command runs with --insecure-overrides.
func insecure(c *cli.Context) bool { return c.Bool("insecure-overrides") }

// warnInsecure says, on every command run with --insecure-overrides, that
// the checks are off: a flag left in a start script would otherwise keep
// them off unnoticed.
func warnInsecure(c *cli.Context, out *output) {
	if insecure(c) {
		out.warnf("--insecure-overrides: the ownership and mode checks of the overrides directory, snippets, env files and the haproxy binary are off; whoever can write them controls haproxy")
	}
}

// fileChecker is the ownership and mode check of env files and the haproxy
// binary, naming --insecure-overrides as the way around where the command
// takes it.
func fileChecker(c *cli.Context) *perm.Checker {
	for _, f := range c.Command.Flags {
		if slices.Contains(f.Names(), "insecure-overrides") {
			return perm.New(nil, "(or run with --insecure-overrides)")
		}
	}
	return perm.New(nil, "")
}

// checkBinary refuses to run a haproxy binary that someone other than this
// user or root can change (unless --insecure-overrides): run's preflight
// and check run it, and the shim runs it for Ray.
func checkBinary(c *cli.Context, path string) error {
	if insecure(c) {
		return nil
	}
	if p := fileChecker(c).CheckFile(path, "haproxy binary"); p != nil {
		return p
	}
	return nil
}

// noArgs refuses arguments to a command that takes none. Flag parsing stops
// at the first argument, so in "check --config a.cfg x --overrides my.d" the
// --overrides is an argument too: ignored, check would report on
// ./overrides.d as if it were the directory asked for.
func noArgs(c *cli.Context) error {
	if c.NArg() > 0 {
		return fmt.Errorf("%s takes no arguments, got %q (flags after it are not read)", c.Command.Name, c.Args().First())
	}
	return nil
}

// requireFlag refuses a command run without the flag name. urfave/cli's
// own check (Required: true) prints the whole help and then a capitalised
// "Required flag" error; this names the flag and where the help is.
func requireFlag(c *cli.Context, name string) error {
	if c.IsSet(name) {
		return nil
	}
	return fmt.Errorf("%s needs --%s (serve-launch %s --help says more)", c.Command.Name, name, c.Command.Name)
}

// loadOverrides loads the snippets named by --overrides, printing
// warnings. It returns the snippets that loaded together with the errors
// of those that did not, unprinted: the caller applies what loaded and
// reports both with reportAll, so that one run shows every error of every
// file. err is set, and printed, only when the directory itself cannot be
// used. Every command that takes --insecure-overrides loads them, so this
// is where the flag's warning is printed.
func loadOverrides(c *cli.Context, out *output) (o *patch.Overrides, loadErrs config.ErrorList, err error) {
	warnInsecure(c, out)
	o, err = load.Dir(c.String("overrides"), load.Options{
		Warn:              func(msg string) { out.warnf("%s", msg) },
		InsecureOverrides: insecure(c),
	})
	if o == nil {
		return nil, nil, reportErrors(out, err)
	}
	var list config.ErrorList
	if errors.As(err, &list) {
		loadErrs = list
	} else if err != nil {
		return nil, nil, err
	}
	return o, loadErrs, nil
}

// reportAll prints every error of errs (ErrorLists, such as the load
// errors of loadOverrides and the errors of applying what loaded), merged
// and in the order the snippet files apply, and returns an already printed
// error; nil when there is none. An error that is no ErrorList is printed
// after them.
func reportAll(out *output, errs ...error) error {
	var merged config.ErrorList
	var other []error
	for _, err := range errs {
		var list config.ErrorList
		switch {
		case err == nil:
		case errors.As(err, &list):
			merged = append(merged, list...)
		default:
			other = append(other, err)
		}
	}
	if len(merged) == 0 && len(other) == 0 {
		return nil
	}
	patch.SortByFile(merged)
	for _, e := range merged {
		out.errorf("%s", e)
	}
	for _, e := range other {
		out.errorf("%s", e)
	}
	return exitWith(1, nil)
}

// reportErrors prints each error of an ErrorList on its own line and returns
// an error that is already printed.
func reportErrors(out *output, err error) error {
	var list config.ErrorList
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
	return readConfigFile(c, c.String("config"))
}

// readConfigFile reads a config, "-" meaning stdin, refusing one over
// state.MaxConfigSize. It reads through a limit rather than trusting a stat, so a
// FIFO or /dev/stdin is bounded too.
func readConfigFile(c *cli.Context, name string) (string, []byte, error) {
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
		if st, err := f.Stat(); err == nil && st.IsDir() {
			return "", nil, fmt.Errorf("%s: a directory, not a config file", name)
		}
		r = f
	}
	data, err := state.ReadLimited(r, state.MaxConfigSize)
	if err != nil {
		return "", nil, fmt.Errorf("%s: %v", name, err)
	}
	if len(data) > state.MaxConfigSize {
		return "", nil, fmt.Errorf("%s: config is larger than the limit of %d bytes", name, state.MaxConfigSize)
	}
	return name, data, nil
}

// haproxyCheck runs `haproxy -c` (--haproxy) on f and prints what it says
// (see reportCheck). It returns an already printed error when haproxy
// refuses f.
func haproxyCheck(c *cli.Context, out *output, f *config.File, offersVerbose bool, explain func(hapcheck.Message) string) error {
	hap, err := checkedHAProxy(c)
	if err != nil {
		return err
	}
	res, err := hapcheck.Check(c.Context, hap, f)
	if err != nil {
		return err
	}
	return reportCheck(c, out, res, offersVerbose, explain)
}

// checkedHAProxy finds --haproxy and checks its ownership and mode.
func checkedHAProxy(c *cli.Context) (string, error) {
	hap, err := execpath.LookPath(c.String("haproxy"), os.Getenv("PATH"), nil)
	if err != nil {
		return "", fmt.Errorf("haproxy not found: %v (give --haproxy PATH)", err)
	}
	if err := checkBinary(c, hap); err != nil {
		return "", err
	}
	return hap, nil
}

// reportCheck prints what `haproxy -c` said: alerts as errors (naming the
// snippet line that wrote the bad line), and warnings about lines snippets
// wrote. Warnings about Ray's own lines are not the user's to fix; they are
// counted, and shown with --verbose where the command offers it
// (offersVerbose), so a snippet's stand out. explain, when set, may say
// more than an alert (check's haproxy version mismatch); it returns "" to
// leave the alert as it is. It returns an already printed error when
// haproxy refused the config.
func reportCheck(c *cli.Context, out *output, res *hapcheck.Result, offersVerbose bool, explain func(hapcheck.Message) string) error {
	verbose := offersVerbose && c.Bool("verbose")
	hidden := 0
	for _, m := range res.Messages {
		switch {
		case m.Level == "ALERT":
			msg := m.String()
			if explain != nil {
				if e := explain(m); e != "" {
					msg = e
				}
			}
			out.errorf("%s", msg)
		case m.FromSnippet || verbose:
			out.warnf("%s", m)
		default:
			hidden++
		}
	}
	if hidden > 0 && offersVerbose {
		out.hintf("haproxy printed %d warnings about the generated config itself; --verbose shows them", hidden)
	}
	if !res.OK {
		if len(res.Messages) == 0 {
			out.errorf("haproxy -c failed:\n%s", res.Output)
		}
		return exitWith(1, nil)
	}
	return nil
}

// patchConfig reads --config, applies the overrides, their env templates
// reading getenv, and returns the generated bytes and the patched file. It
// reports the load errors of loadOverrides (loadErrs) with those of
// applying the snippets that loaded, all in one run.
func patchConfig(c *cli.Context, out *output, o *patch.Overrides, loadErrs config.ErrorList, getenv func(string) (string, bool)) ([]byte, *config.File, error) {
	name, data, err := readConfig(c)
	if err != nil {
		return nil, nil, err
	}
	// Owned: data is only read from here on, and a large config is then
	// in memory once, as the model.
	f, err := config.ParseOwned(name, data)
	if err != nil {
		return nil, nil, reportErrors(out, err)
	}
	err = o.Apply(f, patch.ApplyOptions{NoProvenance: c.Bool("no-provenance"), Getenv: getenv})
	if err := reportAll(out, loadErrs.Err(), err); err != nil {
		return nil, nil, err
	}
	return data, f, nil
}

// rayVersionFlag is --ray-version: which Ray's variables, defaults and
// config shape env, check and run go by.
func rayVersionFlag() cli.Flag {
	var names []string
	for _, v := range envmap.RayVersions() {
		names = append(names, v.Name+" ("+v.Doc+")")
	}
	list := strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
	return &cli.StringFlag{
		Name:    "ray-version",
		Usage:   "the Ray `VERSION` whose variables, defaults and config shape to go by: " + list,
		Value:   envmap.DefaultRelease.Name(),
		EnvVars: []string{"SERVE_LAUNCH_RAY_VERSION"},
	}
}

// rayRelease reads --ray-version; empty (SERVE_LAUNCH_RAY_VERSION=) means
// the default.
func rayRelease(c *cli.Context) (envmap.Release, error) {
	v := c.String("ray-version")
	if v == "" {
		return envmap.DefaultRelease, nil
	}
	r, err := envmap.ParseRayVersion(v)
	if err != nil {
		return "", fmt.Errorf("--ray-version: %v (serve-launch %s --help says which is which)", err, c.Command.Name)
	}
	return r, nil
}
