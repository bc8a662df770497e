package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/mvorch/mvorch/runner"
)

func runCommand() *cli.Command {
	return &cli.Command{
		Name:      "run",
		Usage:     "apply the steps in order on every host, then verify",
		ArgsUsage: "INVENTORY",
		Description: "run plans exactly as plan does, then makes those changes step by step: within a step\n" +
			"hosts work in parallel, and every host finishes a step before the next starts. Each\n" +
			"change is recorded in the host's journal (/var/lib/mvorch) with what undoes it before it\n" +
			"is made. Afterwards the containers ping each other (see mvorch verify --help).",
		Flags: append(hostFlags(),
			&cli.BoolFlag{Name: "dry-run", Usage: "print the plan and change nothing (same as plan)"},
			&cli.BoolFlag{Name: "detailed-exitcode", Usage: "with --dry-run: exit 2 when there are changes"},
			&cli.BoolFlag{Name: "replace", Usage: "replace conflicting networks, containers and interfaces that mvorch did not make"},
			&cli.BoolFlag{Name: "no-verify", Usage: "skip the ping check after applying"},
			fullFlag(),
			&cli.BoolFlag{Name: "keep-going", Usage: "when a host fails, let the other hosts finish the run (default: stop after the failing step)"},
		),
		Action: func(c *cli.Context) error {
			o, err := parseCommon(c)
			if err != nil {
				return err
			}
			o.runner.Replace = c.Bool("replace")
			o.runner.KeepGoing = c.Bool("keep-going")
			if c.Bool("dry-run") {
				o.runner.Log = nil
				return planRun(c.Context, o, c.Bool("detailed-exitcode"))
			}
			if c.Bool("detailed-exitcode") {
				return fmt.Errorf("--detailed-exitcode goes with --dry-run (or use mvorch plan)")
			}
			o.fullVerify = c.Bool("full")
			return runRun(c, o, !c.Bool("no-verify"))
		},
	}
}

func runRun(c *cli.Context, o *common, verify bool) error {
	ctx := c.Context
	inv, err := o.load()
	if err != nil {
		return err
	}
	r, err := runner.Connect(ctx, inv, o.runner)
	if err != nil {
		return err
	}
	defer r.Close()
	// The ping check starts now, beside locking and planning: when the
	// plan turns out empty (a re-run) its answer stands, and a no-op run
	// waits for the slower of the two rather than both. Otherwise it is
	// cancelled before anything changes, and made again after the apply.
	// It only reads, so it needs no lock; if the lock is refused (another
	// run is under way), its answer is dropped with the rest.
	early := startVerify(ctx, r, verify, o.fullVerify)
	defer early.discard()
	if err := r.Lock(ctx); err != nil {
		return err
	}
	p, err := r.Plan(ctx)
	if err != nil {
		return err
	}
	if len(p.Changes) > 0 {
		early.discard()
	}
	if o.output == "text" {
		runner.WritePlanText(o.stdout, p, o.color)
		fmt.Fprintln(o.stdout)
	}
	rep, applyErr := r.Apply(ctx, p)
	out := runner.RunJSON{Changes: rep.Applied, ElapsedS: rep.Elapsed.Seconds(), StoppedAt: rep.StoppedAt}
	out.Summary.Added, out.Summary.Changed, out.Summary.Removed, out.Summary.Failed = rep.Added, rep.Changed, rep.Removed, rep.Failed
	out.Summary.Unchanged = len(p.Changes) - len(rep.Applied) - rep.Failed
	var verifyErr error
	if applyErr == nil && verify {
		v, err := early.result()
		if v == nil && err == nil {
			v, err = r.Verify(ctx, o.fullVerify)
		}
		if err != nil {
			verifyErr = err
		} else {
			out.Verify = v
			if !v.OK {
				verifyErr = errors.New("verify: some containers do not reach each other as expected")
			}
		}
	}
	if applyErr != nil {
		out.Error = applyErr.Error()
	}
	if o.output == "json" {
		if err := runner.WriteRunJSON(o.stdout, &out); err != nil {
			return err
		}
	} else {
		writeRunText(o, rep, applyErr, out.Verify)
	}
	if errors.Is(applyErr, runner.ErrInterrupted) {
		return &exitCodeError{code: exitInterrupted, err: applyErr}
	}
	if applyErr != nil {
		return &exitCodeError{code: exitFailure, err: applyErr}
	}
	return verifyErr
}

func writeRunText(o *common, rep *runner.ApplyReport, applyErr error, v *runner.VerifyReport) {
	if applyErr != nil {
		fmt.Fprintf(o.stdout, "Apply stopped at step %s after %d added, %d changed, %d removed in %.1fs; %d planned change(s) not made.\n",
			rep.StoppedAt, rep.Added, rep.Changed, rep.Removed, rep.Elapsed.Seconds(), rep.NotDone)
		fmt.Fprintln(o.stdout, "Every change made is in the hosts' journals: run again to finish, or rollback to undo.")
		return
	}
	fmt.Fprintf(o.stdout, "Apply complete: %d added, %d changed, %d removed in %.1fs.\n", rep.Added, rep.Changed, rep.Removed, rep.Elapsed.Seconds())
	if v != nil {
		fmt.Fprintln(o.stdout)
		runner.WriteVerifyText(o.stdout, v)
	}
}

// earlyVerify is a ping check started before the plan is known.
type earlyVerify struct {
	cancel context.CancelFunc
	done   chan struct{}
	v      *runner.VerifyReport
	err    error
	used   bool
}

func startVerify(ctx context.Context, r *runner.Runner, verify, full bool) *earlyVerify {
	e := &earlyVerify{done: make(chan struct{})}
	if !verify {
		close(e.done)
		e.used = true
		return e
	}
	ctx, e.cancel = context.WithCancel(ctx)
	go func() {
		defer close(e.done)
		e.v, e.err = r.Verify(ctx, full)
	}()
	return e
}

// discard stops the early check and waits until it has let go of the hosts.
func (e *earlyVerify) discard() {
	if e.cancel != nil {
		e.cancel()
	}
	<-e.done
	e.used = true
}

// result is the early check's answer, or nil, nil when it was discarded.
func (e *earlyVerify) result() (*runner.VerifyReport, error) {
	if e.used {
		return nil, nil
	}
	<-e.done
	e.cancel()
	return e.v, e.err
}
