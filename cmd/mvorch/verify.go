package main

import (
	"errors"

	"github.com/urfave/cli/v2"

	"github.com/mvorch/mvorch/runner"
)

func verifyCommand() *cli.Command {
	return &cli.Command{
		Name:      "verify",
		Usage:     "ping between every pair of containers: expected vs actual",
		ArgsUsage: "INVENTORY",
		Description: "From each container, verify pings every other container once. Containers on the same\n" +
			"network should answer; containers on different networks should not (that needs a\n" +
			"layer-3 router). Exits 1 when any pair differs from what is expected.",
		Flags: hostFlags(),
		Action: func(c *cli.Context) error {
			o, err := parseCommon(c)
			if err != nil {
				return err
			}
			inv, err := o.load()
			if err != nil {
				return err
			}
			r, err := runner.Connect(c.Context, inv, o.runner)
			if err != nil {
				return err
			}
			defer r.Close()
			v, err := r.Verify(c.Context)
			if err != nil {
				return err
			}
			if o.output == "json" {
				err = runner.WriteVerifyJSON(o.stdout, v)
			} else {
				runner.WriteVerifyText(o.stdout, v)
			}
			if err == nil && !v.OK {
				err = &exitCodeError{code: exitFailure, err: errors.New("verify: some containers do not reach each other as expected")}
			}
			return err
		},
	}
}
