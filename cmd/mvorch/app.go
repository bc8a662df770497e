package main

import (
	"fmt"
	"io"

	"github.com/urfave/cli/v2"
)

// newApp builds the command line; every command's flags become an options
// struct handed to the runner, so the commands stay thin.
func newApp(stdin io.Reader, stdout, stderr io.Writer) *cli.App {
	return &cli.App{
		Name:    "mvorch",
		Usage:   "build Docker cross-host macvlan networking over SSH, with a plan and a rollback",
		Version: version,
		Description: "mvorch reads a TOML inventory of hosts, VLANs, a private registry, macvlan networks\n" +
			"and containers, and applies the procedure in ordered steps over SSH: promiscuous mode,\n" +
			"8021q, ifcfg VLAN sub-interfaces, registry trust for docker, the registry, images,\n" +
			"macvlan networks, containers, then a ping check across hosts.",
		Reader:          stdin,
		Writer:          stdout,
		ErrWriter:       stderr,
		HideHelpCommand: true,
		Commands:        commands(),
		ExitErrHandler:  func(*cli.Context, error) {},
	}
}

func commands() []*cli.Command { return nil }

// run executes the command line and maps errors to exit codes in one place.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	app := newApp(stdin, stdout, stderr)
	if err := app.Run(args); err != nil {
		fmt.Fprintln(stderr, "mvorch:", err)
		return 1
	}
	return 0
}
