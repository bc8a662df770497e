package main

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"
)

var shells = []string{"bash", "zsh", "fish"}

// The bash and zsh scripts ask mvorch itself what comes next (urfave/cli's
// hidden --generate-bash-completion flag), so they never go stale. The
// words are passed as they are, never through eval. Where mvorch offers
// nothing (an inventory file), the shell completes file names.
const bashCompletion = `# bash completion for mvorch. Load it with: source <(mvorch completion bash)
# or install it: mvorch completion bash > /etc/bash_completion.d/mvorch
_mvorch_complete() {
	local cur="${COMP_WORDS[COMP_CWORD]}" opts
	if [[ "$cur" == -* ]]; then
		opts=$("${COMP_WORDS[@]:0:COMP_CWORD}" "$cur" --generate-bash-completion 2>/dev/null)
	else
		opts=$("${COMP_WORDS[@]:0:COMP_CWORD}" --generate-bash-completion 2>/dev/null)
	fi
	COMPREPLY=($(compgen -W "$opts" -- "$cur"))
}
complete -o bashdefault -o default -F _mvorch_complete mvorch
`

const zshCompletion = `#compdef mvorch
# zsh completion for mvorch. Install it: mvorch completion zsh > "${fpath[1]}/_mvorch"
# or load it now: source <(mvorch completion zsh)
_mvorch() {
	local -a opts
	local cur=${words[-1]}
	if [[ "$cur" == -* ]]; then
		opts=("${(@f)$(${words[@]:0:#words[@]-1} "$cur" --generate-bash-completion 2>/dev/null)}")
	else
		opts=("${(@f)$(${words[@]:0:#words[@]-1} --generate-bash-completion 2>/dev/null)}")
	fi
	if [[ "${opts[1]}" != "" ]]; then
		_describe 'values' opts
	else
		_files
	fi
}
if [[ "$funcstack[1]" = "_mvorch" ]]; then
	_mvorch "$@"
else
	compdef _mvorch mvorch
fi
`

func completionCommand() *cli.Command {
	return &cli.Command{
		Name:      "completion",
		Usage:     "print a shell completion script: bash, zsh or fish",
		ArgsUsage: strings.Join(shells, "|"),
		Description: "bash: source <(mvorch completion bash), or save it as /etc/bash_completion.d/mvorch\n" +
			"zsh:  mvorch completion zsh > \"${fpath[1]}/_mvorch\" (then compinit)\n" +
			"fish: mvorch completion fish > ~/.config/fish/completions/mvorch.fish",
		BashComplete: func(c *cli.Context) {
			for _, s := range shells {
				fmt.Fprintln(c.App.Writer, s)
			}
		},
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 || !slices.Contains(shells, c.Args().First()) {
				return fmt.Errorf("completion needs one argument, the shell: %s", strings.Join(shells, ", "))
			}
			return writeCompletion(c.App, c.Args().First(), c.App.Writer)
		},
	}
}

func writeCompletion(app *cli.App, shell string, w io.Writer) error {
	script := bashCompletion
	switch shell {
	case "zsh":
		script = zshCompletion
	case "fish":
		// urfave/cli writes fish's from the commands and flags themselves.
		s, err := app.ToFishCompletion()
		if err != nil {
			return fmt.Errorf("writing the fish completion: %w", err)
		}
		script = s
	}
	_, err := io.WriteString(w, script)
	return err
}

func manCommand() *cli.Command {
	return &cli.Command{
		Name:        "man",
		Usage:       "print the manual page (roff): mvorch man | man -l -",
		Description: "Install it with: mvorch man > /usr/local/share/man/man1/mvorch.1 (section 1, user commands)",
		Action: func(c *cli.Context) error {
			if c.NArg() != 0 {
				return fmt.Errorf("man takes no arguments")
			}
			page, err := c.App.ToManWithSection(1)
			if err != nil {
				return fmt.Errorf("writing the manual page: %w", err)
			}
			_, err = io.WriteString(c.App.Writer, page)
			return err
		},
	}
}
