package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"
)

// Completion scripts are thin: each asks the binary itself for candidates
// with urfave/cli's --generate-bash-completion (the app has
// EnableBashCompletion on), so commands and flags added later complete
// without regenerating the script. They follow urfave/cli's autocomplete
// examples; PROG is replaced by the program name.
const (
	bashCompletion = `# bash completion for PROG; load with: source <(PROG completion bash)
_PROGFUNC_complete() {
  local cur words cword
  COMPREPLY=()
  if declare -F _init_completion >/dev/null 2>&1; then
    _init_completion -n "=:" || return
  else
    cur="${COMP_WORDS[COMP_CWORD]}"
    words=("${COMP_WORDS[@]}")
    cword=$COMP_CWORD
  fi
  local -a prefix=("${words[@]:0:$cword}")
  local opts
  if [[ "$cur" == -* ]]; then
    opts=$("${prefix[@]}" "$cur" --generate-bash-completion 2>/dev/null)
  else
    opts=$("${prefix[@]}" --generate-bash-completion 2>/dev/null)
  fi
  COMPREPLY=($(compgen -W "$opts" -- "$cur"))
}
complete -o bashdefault -o default -F _PROGFUNC_complete PROG
`
	zshCompletion = `#compdef PROG
# zsh completion for PROG; load with: source <(PROG completion zsh)
# or save as _PROG in a directory of your $fpath.
_PROGFUNC_complete() {
  local -a opts
  local cur=${words[-1]}
  if [[ "$cur" == -* ]]; then
    opts=("${(@f)$(${words[@]:0:#words[@]-1} ${cur} --generate-bash-completion 2>/dev/null)}")
  else
    opts=("${(@f)$(${words[@]:0:#words[@]-1} --generate-bash-completion 2>/dev/null)}")
  fi
  if [[ "${opts[1]}" != "" ]]; then
    _describe 'values' opts
  else
    _files
  fi
}
compdef _PROGFUNC_complete PROG
`
	fishCompletion = `# fish completion for PROG; load with: PROG completion fish | source
# or save as ~/.config/fish/completions/PROG.fish.
function __PROGFUNC_complete
    set -l args (commandline -opc)
    set -l cur (commandline -ct)
    if string match -q -- '-*' $cur
        $args $cur --generate-bash-completion 2>/dev/null
    else
        $args --generate-bash-completion 2>/dev/null
    end
end
complete -c PROG -a '(__PROGFUNC_complete)'
`
)

func completionCommand(out *output) *cli.Command {
	return &cli.Command{
		Name:      "completion",
		Usage:     "print a shell completion script for bash, zsh or fish",
		ArgsUsage: "bash|zsh|fish",
		Description: `Prints a script that completes commands and flags of serve-launch in the
given shell. The script asks serve-launch itself for candidates each time
(--generate-bash-completion), so it stays right across upgrades; flag values
complete as file names.

Example:
   source <(serve-launch completion bash)     # in ~/.bashrc
   source <(serve-launch completion zsh)      # in ~/.zshrc, after compinit
   serve-launch completion fish > ~/.config/fish/completions/serve-launch.fish`,
		// Completing "serve-launch completion <TAB>" offers the shells.
		BashComplete: func(c *cli.Context) {
			if c.NArg() == 0 {
				fmt.Fprintln(out.stdout, "bash\nzsh\nfish")
			}
		},
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return exitWith(2, errors.New("completion needs one shell: bash, zsh or fish"))
			}
			var script string
			switch shell := c.Args().First(); shell {
			case "bash":
				script = bashCompletion
			case "zsh":
				script = zshCompletion
			case "fish":
				script = fishCompletion
			default:
				return exitWith(2, fmt.Errorf("completion: unknown shell %q: use bash, zsh or fish", shell))
			}
			prog := c.App.Name
			// Shell function names cannot hold every character a program
			// name can (bash and fish refuse "-" in some positions).
			fn := strings.Map(func(r rune) rune {
				if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
					return r
				}
				return '_'
			}, prog)
			script = strings.ReplaceAll(script, "PROGFUNC", fn)
			script = strings.ReplaceAll(script, "PROG", prog)
			_, err := fmt.Fprint(out.stdout, script)
			return err
		},
	}
}
