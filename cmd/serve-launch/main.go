// Command serve-launch runs Ray Serve with its built-in HAProxy while letting the
// user own the HAProxy configuration through override snippets.
//
// The haproxy Ray runs under `serve-launch run` is serve-launch-shim, a
// program of its own beside this one (see cmd/serve-launch-shim).
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"

	"github.com/urfave/cli/v2"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	if !longRunning(os.Args) {
		batchGC()
	}
	os.Exit(run(context.Background(), os.Args, os.Stdout, os.Stderr))
}

// longRunning reports whether args start the launcher, the one command that
// lives as long as Ray does; every other command does its work in
// milliseconds and exits.
func longRunning(args []string) bool {
	return len(args) > 1 && args[1] == "run"
}

// batchGC turns the garbage collector off up to a memory limit. A command
// that exits within milliseconds gains nothing from collecting (the heap is
// small and short-lived). The limit keeps a huge config from growing
// without bound; past it the collector runs again. GOGC or GOMEMLIMIT in
// the environment still win, for debugging.
func batchGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(-1)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(batchMemoryLimit)
	}
}

// batchMemoryLimit is where batchGC's collector starts again: a config of
// tens of thousands of servers patches below it.
const batchMemoryLimit = 48 << 20

// run is main without the process exit, so tests can call it.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	args = helpArgs(args)
	out := newOutput(stdout, stderr)
	app := newApp(out)
	app.Metadata = map[string]any{"args": args}
	if err := app.RunContext(ctx, args); err != nil {
		return out.exit(err)
	}
	return 0
}

// helpArgs turns "serve-launch help [CMD]" into "serve-launch [CMD] --help",
// which prints the same. urfave/cli's own help command stays hidden
// (HideHelpCommand): it answers an unknown command with "No help topic" and
// exit status 3, where appAction names the commands, and defining one of
// our own would take the --help flag away (urfave adds it only without a
// command named help).
func helpArgs(args []string) []string {
	if len(args) < 2 || args[1] != "help" {
		return args
	}
	if len(args) == 2 || args[2] == "help" {
		return []string{args[0], "--help"}
	}
	return []string{args[0], args[2], "--help"}
}

// newApp builds the command tree. Each command lives in its own cmd_*.go file.
func newApp(out *output) *cli.App {
	return &cli.App{
		Name:  "serve-launch",
		Usage: "run Ray Serve with its built-in HAProxy, patched by your overrides.d snippets",
		Description: `serve-launch replaces "serve run" in a start script. It checks the
RAY_SERVE_HAPROXY_* settings, loads override snippets from overrides.d/*.toml, and
stands in for the haproxy binary that Ray runs, so that every haproxy start and
reload Ray makes runs on the generated config with the snippets applied.

Example:
   serve-launch run --env-file serve.env --overrides overrides.d -- serve run app.yaml

"serve-launch help COMMAND" (or COMMAND --help) describes a command.`,
		Version:              version,
		Writer:               out.stdout,
		ErrWriter:            out.stderr,
		HideHelpCommand:      true,
		EnableBashCompletion: true,
		ExitErrHandler:       func(*cli.Context, error) {}, // run() owns exit codes
		Action:               appAction,
		Commands: []*cli.Command{
			runCommand(out),
			renderCommand(out),
			diffCommand(out),
			checkCommand(out),
			envCommand(out),
			statusCommand(out),
			reloadCommand(out),
			migrateCommand(out),
			initCommand(out),
			completionCommand(out),
		},
	}
}

// appAction runs when no command matches. Without it urfave/cli answers
// "serve-launch rendr" with "No help topic for 'rendr'" and exit status 3,
// which reads as a help lookup gone wrong, not as a mistyped command.
func appAction(c *cli.Context) error {
	if c.NArg() == 0 {
		return cli.ShowAppHelp(c)
	}
	var names []string
	for _, cmd := range c.App.VisibleCommands() {
		names = append(names, cmd.Name)
	}
	return fmt.Errorf("unknown command %q: the commands are %s (serve-launch --help says more)", c.Args().First(), strings.Join(names, ", "))
}
