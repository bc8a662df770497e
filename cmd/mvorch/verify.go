package main

import (
	"errors"
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/mvorch/mvorch/runner"
)

func verifyCommand() *cli.Command {
	return &cli.Command{
		Name:      "verify",
		Usage:     "ping between containers: expected vs actual",
		ArgsUsage: "INVENTORY",
		Description: "From each container, verify pings other containers, all containers at once. Containers\n" +
			"on the same network should answer; containers on different networks should not (that\n" +
			"needs a layer-3 router). Exits 1 when any pair differs from what is expected, or when a\n" +
			"container could not ping at all (stopped, paused, missing).\n\n" +
			fmt.Sprintf("Up to %d containers, every container pings every other one (the full matrix).\n", runner.FullMatrixMax) +
			"Beyond that each container pings the next container of its network (inventory order,\n" +
			"wrapping round: every container both sends and answers) and one container of each other\n" +
			"network: a full matrix of n containers is n*(n-1) pings, and every answered ping leaves an\n" +
			"ARP entry at both ends, enough at about 100 containers to overflow the hosts' neighbour\n" +
			"tables (net.ipv4.neigh.default.gc_thresh3, 1024) so that pings fail for that reason\n" +
			"alone. --full pings every pair anyway.\n\n" +
			"A ping that should be answered gets up to three tries (about 7 s). One that should get\n" +
			"no answer is given, from its own start, at least 100 ms and at least twice as long as\n" +
			"the slowest expected answer on its host took (a host with no expected answer waits\n" +
			"for its pings to time out). -v shows how long each host's pings took.",
		Flags: append(hostFlags(), fullFlag()),
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
			v, err := r.Verify(c.Context, c.Bool("full"))
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
