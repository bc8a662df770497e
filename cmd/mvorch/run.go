package main

import (
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
			"is made. Afterwards every container pings every other (see verify).",
		Flags: append(hostFlags(),
			&cli.BoolFlag{Name: "dry-run", Usage: "print the plan and change nothing (same as plan)"},
			&cli.BoolFlag{Name: "detailed-exitcode", Usage: "with --dry-run: exit 2 when there are changes"},
			&cli.BoolFlag{Name: "replace", Usage: "replace conflicting networks, containers and interfaces that mvorch did not make"},
			&cli.BoolFlag{Name: "no-verify", Usage: "skip the ping check after applying"},
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
	if err := r.Lock(ctx); err != nil {
		return err
	}
	p, err := r.Plan(ctx)
	if err != nil {
		return err
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
		v, err := r.Verify(ctx)
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
