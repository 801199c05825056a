package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/serve-launch/serve-launch/internal/proc/state"
	"github.com/urfave/cli/v2"
)

func statusCommand(out *output) *cli.Command {
	return &cli.Command{
		Name:      "status",
		Usage:     "show every haproxy started through the shim, its state and the snippets in force; exit 1 when one needs attention",
		ArgsUsage: " ",
		Description: `Reads the state dir and shows, for each haproxy the shim started: its state,
the generated and running files, master and worker PIDs, the listeners and
admin socket of the config the master loaded, the snippets in force with their
SHA-256, the snippets left out (quarantined) with their errors, and the last
start or reload Ray made and the last hot reload, with their results.

The states: serving (every snippet in force); degraded (a snippet file is
quarantined, Ray's config runs without the overrides, or the last hot reload
was refused); wedged (a shim died before it ran haproxy, so Ray may track a
dead process and fail every later reload: restart Serve's proxy); dead (the
master is gone while Ray still tracks it); starting; stopped (Ray or the
launcher stopped it). A record that could not be written (a full disk) is
marked stale, and the event slot's newer word is shown.

Without --state-dir it reads the same default as run ($SERVE_LAUNCH_STATE_DIR,
else $XDG_RUNTIME_DIR/serve-launch, else /tmp/serve-launch-UID) and the state
dirs of every running launcher started with another --state-dir.

It exits 1 when any instance is degraded, wedged or dead, so it can serve as
a health check. --format json prints the instances as docs/status.md
describes, whatever the exit status.

Example:
   serve-launch status --format json`,
		Flags: []cli.Flag{
			stateDirFlag(),
			&cli.StringFlag{Name: "format", Value: "text", Usage: "text or json"},
		},
		Action: func(c *cli.Context) error {
			if err := noArgs(c); err != nil {
				return err
			}
			format := c.String("format")
			if format != "text" && format != "json" {
				return fmt.Errorf("--format must be text or json, not %q", format)
			}
			dirs := []string{c.String("state-dir")}
			if dirs[0] == "" {
				dirs = state.KnownStateDirs()
			}
			var insts []state.Instance
			for _, d := range dirs {
				sd, err := state.OpenStateDir(d)
				if err != nil {
					return err
				}
				in, err := state.Status(sd)
				if err != nil {
					out.warnf("%v", err)
				}
				insts = append(insts, in...)
			}
			if format == "json" {
				if insts == nil {
					insts = []state.Instance{}
				}
				enc := json.NewEncoder(out.stdout)
				enc.SetIndent("", "  ")
				if err := enc.Encode(insts); err != nil {
					return err
				}
			} else {
				printStatus(out.stdout, dirs, insts)
			}
			for _, in := range insts {
				if state.Unhealthy(in.State) {
					return exitWith(1, nil)
				}
			}
			return nil
		},
	}
}

// printStatus writes the instances for people, one block each.
func printStatus(w io.Writer, dirs []string, insts []state.Instance) {
	if len(insts) == 0 {
		fmt.Fprintf(w, "no haproxy recorded in %s\n", strings.Join(dirs, ", "))
		return
	}
	for i, in := range insts {
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "haproxy %d (%s): %s\n", in.MasterPID, in.Generated, in.State)
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		row := func(k, format string, a ...any) { fmt.Fprintf(tw, "  %s\t%s\n", k, fmt.Sprintf(format, a...)) }
		if in.StateDetail != "" {
			row("state", "%s: %s", in.State, in.StateDetail)
		}
		row("generated", "%s", in.Generated)
		row("running", "%s", strings.Join(in.Running, " "))
		alive := "dead"
		if in.Alive {
			alive = "alive"
		}
		row("master", "%d (%s)", in.MasterPID, alive)
		row("workers", "%s", joinInts(in.WorkerPIDs))
		row("listeners", "%s", strings.Join(in.Listeners, " "))
		row("admin socket", "%s", in.AdminSocket)
		for _, s := range in.Snippets {
			row("snippet", "%s  sha256:%.12s", s.Name, s.SHA256)
		}
		for _, q := range in.Quarantined {
			row("quarantined", "%s: %s", q.Name, strings.ReplaceAll(q.Error, "\n", "; "))
		}
		if in.Unpatched != "" {
			row("unpatched", "%s", in.Unpatched)
		}
		if e := in.LastStart; e != nil {
			row("last start", "%s", eventLine(*e))
		}
		if e := in.LastHotReload; e != nil {
			row("last hot reload", "%s", eventLine(*e))
		}
		if in.RecordStale {
			row("record", "stale: the last start's record could not be written (%s); the lines above come from its event slot", in.RecordError)
		}
		overrides := in.OverridesDir
		if in.InsecureOverrides {
			overrides += "  (--insecure-overrides: loaded without the ownership and mode checks)"
		}
		row("overrides", "%s", overrides)
		tw.Flush()
	}
}

// eventLine is one start or hot reload, for people.
func eventLine(e state.Event) string {
	s := fmt.Sprintf("%s  %s (pid %d): %s", e.At.Format(time.RFC3339), e.Kind, e.PID, e.Result)
	if e.Error != "" {
		s += ": " + strings.ReplaceAll(e.Error, "\n", "; ")
	}
	return s
}

func joinInts(xs []int) string {
	if len(xs) == 0 {
		return "-"
	}
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = fmt.Sprint(x)
	}
	return strings.Join(s, " ")
}
