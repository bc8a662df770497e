package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/mvorch/mvorch/inventory"
	"github.com/mvorch/mvorch/runner"
)

// Flags shared by the commands that reach hosts.
func hostFlags() []cli.Flag {
	return append([]cli.Flag{
		&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Value: "text", Usage: "output format: text or json"},
	}, connectFlags()...)
}

// connectFlags say how to reach the hosts; graph takes these without
// --output (its -o is the file it writes).
func connectFlags() []cli.Flag {
	return []cli.Flag{
		&cli.IntFlag{Name: "forks", Value: 0, Usage: "hosts worked on at once (0: all, at most 64)"},
		&cli.BoolFlag{Name: "accept-new-host-keys", Usage: "add unknown hosts' keys to known_hosts (like StrictHostKeyChecking=accept-new); a changed key is always refused"},
		&cli.DurationFlag{Name: "connect-timeout", Value: 10 * time.Second, Usage: "time to connect and authenticate to a host (when not given: ssh_config's ConnectTimeout for the host, if any, else the default)"},
		verboseFlag(),
		&cli.BoolFlag{Name: "no-color", Usage: "no colours in text output (also when NO_COLOR is set)"},
		&cli.StringFlag{Name: "ssh-config", Usage: "OpenSSH client config to honour, read as ssh -F reads it (default ~/.ssh/config then /etc/ssh/ssh_config, as ssh; \"none\" ignores them)"},
		&cli.BoolFlag{Name: "ask-become-pass", Usage: "with become = \"sudo\": ask once for the sudo password (or set MVORCH_BECOME_PASSWORD)"},
	}
}

// common is what every host command parses from its flags.
type common struct {
	inventoryPath string
	output        string
	color         bool
	runner        runner.Options
	stdout        io.Writer
	stderr        io.Writer
	fullVerify    bool
}

func fullFlag() cli.Flag {
	return &cli.BoolFlag{Name: "full", Usage: fmt.Sprintf("ping every pair of containers even when there are more than %d (see mvorch verify --help)", runner.FullMatrixMax)}
}

func parseCommon(c *cli.Context) (*common, error) {
	if c.NArg() != 1 {
		return nil, fmt.Errorf("%s needs exactly one argument, the inventory file (got %d); see mvorch %s --help", c.Command.Name, c.NArg(), c.Command.Name)
	}
	o := &common{inventoryPath: c.Args().First(), output: c.String("output"), stdout: c.App.Writer, stderr: c.App.ErrWriter}
	if o.output != "text" && o.output != "json" {
		return nil, fmt.Errorf("--output %q: use text or json", o.output)
	}
	o.color = o.output == "text" && !c.Bool("no-color") && os.Getenv("NO_COLOR") == "" && isTerminal(o.stdout)
	o.runner = runnerOptions(c, o.output == "text" && c.Command.Name == "run")
	return o, nil
}

// connectTimeout is --connect-timeout when given, else 0: the host's
// ssh_config ConnectTimeout, if any, or the transport's default (10 s, the
// flag's default as --help shows it).
func connectTimeout(c *cli.Context) time.Duration {
	for _, x := range c.Lineage() {
		if x.IsSet("connect-timeout") {
			return x.Duration("connect-timeout")
		}
	}
	return 0
}

// runnerOptions are the connectFlags as runner options; progress goes to
// stderr with -v, or always when progress is true.
func runnerOptions(c *cli.Context, progress bool) runner.Options {
	o := runner.Options{
		Forks:             c.Int("forks"),
		AcceptNewHostKeys: c.Bool("accept-new-host-keys"),
		ConnectTimeout:    connectTimeout(c),
		AskBecomePass:     c.Bool("ask-become-pass"),
		SSHConfig:         c.String("ssh-config"),
		Warn:              c.App.ErrWriter,
		// Every command goes through one shell per host unless
		// MVORCH_ONE_SHELL=0 (a session per command, as before it).
		OneShell: os.Getenv("MVORCH_ONE_SHELL") != "0",
	}
	verbose := 0
	for _, x := range c.Lineage() { // -v before the command counts too
		verbose += x.Count("verbose")
	}
	if verbose > 0 || progress {
		o.Log = c.App.ErrWriter
	}
	o.Verbose = verbose
	o.Live = o.Log != nil && isTerminal(o.Log) && verbose == 0
	return o
}

func verboseFlag() cli.Flag {
	return &cli.BoolFlag{Name: "verbose", Aliases: []string{"v"}, Count: new(int), Usage: "print progress and per-host timings (-v), and remote commands (-vv)"}
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// load reads and validates the inventory.
func (o *common) load() (*inventory.Inventory, error) {
	return inventory.Load(o.inventoryPath)
}
