package main

import (
	"context"

	"github.com/urfave/cli/v2"

	"github.com/mvorch/mvorch/runner"
	"github.com/mvorch/mvorch/steps"
)

func planCommand() *cli.Command {
	return &cli.Command{
		Name:      "plan",
		Usage:     "show what run would change on every host, with diffs (changes nothing)",
		ArgsUsage: "INVENTORY",
		Description: "plan connects to every host, gathers its state in one round trip and prints, step by\n" +
			"step and host by host, each change run would make: + add, ~ change, - remove, -/+ replace,\n" +
			"with a unified diff for every file. Nothing on any host changes.",
		Flags: append(hostFlags(),
			&cli.BoolFlag{Name: "detailed-exitcode", Usage: "exit 2 when there are changes, 0 when there are none"},
			&cli.BoolFlag{Name: "replace", Usage: "plan as run --replace would (conflicts are shown either way)"},
		),
		Action: func(c *cli.Context) error {
			o, err := parseCommon(c)
			if err != nil {
				return err
			}
			o.runner.Replace = c.Bool("replace")
			return planRun(c.Context, o, c.Bool("detailed-exitcode"))
		},
	}
}

// planRun prints the plan; it is also run --dry-run.
func planRun(ctx context.Context, o *common, detailed bool) error {
	p, err := makePlan(ctx, o)
	if err != nil {
		return err
	}
	if o.output == "json" {
		if err := runner.WritePlanJSON(o.stdout, p); err != nil {
			return err
		}
	} else {
		runner.WritePlanText(o.stdout, p, o.color)
	}
	if detailed && !p.Empty() {
		return errChangesPending
	}
	return nil
}

func makePlan(ctx context.Context, o *common) (*steps.Plan, error) {
	inv, err := o.load()
	if err != nil {
		return nil, err
	}
	r, err := runner.Connect(ctx, inv, o.runner)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return r.Plan(ctx)
}
