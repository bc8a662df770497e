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

	"github.com/mvorch/mvorch/runner"
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
			"2 changes pending (plan/run --dry-run with --detailed-exitcode); 130 interrupted.\n\n" +
			"Environment: MVORCH_BECOME_PASSWORD, the sudo password for become = \"sudo\";\n" +
			"MVORCH_ONE_SHELL=0 runs each remote command in an SSH session of its own instead of\n" +
			"through one long-lived shell per host (the default: a slow login shell and sudo are\n" +
			"paid once per host); NO_COLOR, as --no-color.",
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
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	inFlight, stopWaiting := context.WithCancel(context.Background())
	defer stopWaiting()
	sigs := make(chan os.Signal, 3)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	done := make(chan struct{})
	defer close(done)
	go interrupts(sigs, done, stderr, cancel, stopWaiting, func() { os.Exit(exitInterrupted) })
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
	err := app.RunContext(runner.WithInFlight(ctx, inFlight), args)
	return exitCode(ctx, err, stderr)
}

// interrupts handles SIGINT and SIGTERM as people expect of Ctrl-C: the
// first lets the changes in flight finish (and be recorded) and starts no
// new one; the second stops waiting (for the registry, docker, a pull),
// while docker's previous configuration is still put back if its restart
// was cut short; the third exits at once.
func interrupts(sigs <-chan os.Signal, done <-chan struct{}, stderr io.Writer, first, second context.CancelFunc, exit func()) {
	for n := 1; ; n++ {
		select {
		case <-done:
			return
		case <-sigs:
		}
		switch n {
		case 1:
			fmt.Fprintln(stderr, "mvorch: interrupted: finishing the changes in flight, starting no new one (again: stop waiting)")
			first()
		case 2:
			fmt.Fprintln(stderr, "mvorch: interrupted again: no more waiting; docker's previous configuration is still put back if its restart was cut short (again: exit at once)")
			second()
		default:
			fmt.Fprintln(stderr, "mvorch: interrupted a third time: exiting now; the journal has every change begun (mvorch run or rollback goes on from it)")
			exit()
			return
		}
	}
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
