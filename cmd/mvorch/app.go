package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/urfave/cli/v2"
)

// Exit codes (contract, see README).
const (
	exitOK          = 0
	exitFailure     = 1
	exitChanges     = 2
	exitInterrupted = 130
)

// exitCodeError carries an exit code other than 1 through urfave/cli.
type exitCodeError struct {
	code int
	err  error
}

func (e *exitCodeError) Error() string {
	if e.err == nil {
		return ""
	}
	return e.err.Error()
}
func (e *exitCodeError) Unwrap() error { return e.err }

// errChangesPending is returned by plan --detailed-exitcode; it prints nothing.
var errChangesPending = &exitCodeError{code: exitChanges}

// newApp builds the command line; every command turns its flags into an
// options struct and calls one function, so the commands stay thin.
func newApp(stdin io.Reader, stdout, stderr io.Writer) *cli.App {
	// -v is verbose everywhere, as in ssh and ansible: "mvorch -v run" must
	// not print the version and do nothing.
	cli.VersionFlag = &cli.BoolFlag{Name: "version", Usage: "print the version"}
	return &cli.App{
		Flags:   []cli.Flag{verboseFlag()},
		Name:    "mvorch",
		Usage:   "build Docker cross-host macvlan networking over SSH, with a plan and a rollback",
		Version: version,
		Description: "mvorch reads a TOML inventory of hosts, VLANs, a private registry, macvlan networks\n" +
			"and containers, and applies the procedure in ordered steps over SSH: promiscuous mode,\n" +
			"8021q, ifcfg VLAN sub-interfaces, registry trust for docker, the registry, images,\n" +
			"macvlan networks, containers, then a ping check across hosts.\n\n" +
			"Exit codes: 0 success or nothing to change; 1 any failure (a failed verify too);\n" +
			"2 changes pending (plan/run --dry-run with --detailed-exitcode); 130 interrupted.",
		Reader:                 stdin,
		Writer:                 stdout,
		ErrWriter:              stderr,
		HideHelpCommand:        true,
		UseShortOptionHandling: true,
		EnableBashCompletion:   true, // the hidden --generate-bash-completion the completion scripts ask
		Commands:               commands(),
		ExitErrHandler:         func(*cli.Context, error) {},
	}
}

func commands() []*cli.Command {
	cmds := []*cli.Command{planCommand(), runCommand(), rollbackCommand(), verifyCommand(), validateCommand(), graphCommand(), completionCommand(), manCommand()}
	for _, c := range cmds {
		c.UseShortOptionHandling = true // -vv
		c.HideHelpCommand = true        // "mvorch plan help" is not a thing; -h is, and completion offers files
	}
	return cmds
}

// run executes the command line and maps errors to exit codes in one place.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	app := newApp(stdin, stdout, stderr)
	if len(args) > 0 && args[len(args)-1] == "--generate-bash-completion" {
		// urfave/cli v2.27 with short-option handling fails to parse a
		// flag being typed (--fo<TAB>) and then panics completing it;
		// completion needs no -vv splitting.
		app.UseShortOptionHandling = false
		for _, c := range app.Commands {
			c.UseShortOptionHandling = false
		}
	}
	err := app.RunContext(ctx, args)
	return exitCode(ctx, err, stderr)
}

func exitCode(ctx context.Context, err error, stderr io.Writer) int {
	if err == nil {
		return exitOK
	}
	var ec *exitCodeError
	if errors.As(err, &ec) {
		if ec.err != nil {
			fmt.Fprintln(stderr, "mvorch:", ec.err)
		}
		return ec.code
	}
	if ctx.Err() != nil {
		fmt.Fprintln(stderr, "mvorch: interrupted:", err)
		return exitInterrupted
	}
	fmt.Fprintln(stderr, "mvorch:", err)
	return exitFailure
}
