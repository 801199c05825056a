package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/serve-launch/serve-launch/internal/proc"
	"github.com/urfave/cli/v2"
)

func statusCommand(out *output) *cli.Command {
	return &cli.Command{
		Name:      "status",
		Usage:     "show every haproxy started through the shim: files, PIDs, listeners, snippets, last patch",
		ArgsUsage: " ",
		Description: `Reads the state dir and shows, for each haproxy the shim started: the generated
and patched paths, master and worker PIDs (and whether they are alive), the
listeners, the snippets applied with their SHA-256, the last patch time and
result, and the last error.

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
			state, err := openStateDir(c)
			if err != nil {
				return err
			}
			insts, err := proc.Status(state)
			if err != nil {
				return err
			}
			switch c.String("format") {
			case "json":
				if insts == nil {
					insts = []proc.Instance{}
				}
				enc := json.NewEncoder(out.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(insts)
			case "text":
			default:
				return fmt.Errorf("--format must be text or json, not %q", c.String("format"))
			}
			if len(insts) == 0 {
				fmt.Fprintf(out.stdout, "no haproxy recorded in %s\n", state.Path())
				return nil
			}
			for i, in := range insts {
				if i > 0 {
					fmt.Fprintln(out.stdout)
				}
				w := tabwriter.NewWriter(out.stdout, 0, 4, 2, ' ', 0)
				alive := "dead"
				if in.Alive {
					alive = "alive"
				}
				fmt.Fprintf(w, "generated\t%s\n", in.Generated)
				fmt.Fprintf(w, "patched\t%s\n", in.Patched)
				fmt.Fprintf(w, "master\t%d (%s)\n", in.MasterPID, alive)
				fmt.Fprintf(w, "workers\t%s\n", joinInts(in.WorkerPIDs))
				fmt.Fprintf(w, "listeners\t%s\n", strings.Join(in.Listeners, " "))
				fmt.Fprintf(w, "admin socket\t%s\n", in.AdminSocket)
				for _, s := range in.Snippets {
					fmt.Fprintf(w, "snippet\t%s  sha256:%.12s\n", s.Name, s.SHA256)
				}
				fmt.Fprintf(w, "last patch\t%s  %s\n", in.PatchedAt.Format(time.RFC3339), in.Result)
				if in.LastError != "" {
					fmt.Fprintf(w, "last error\t%s\n", in.LastError)
				}
				w.Flush()
			}
			return nil
		},
	}
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
