package main

import (
	"errors"
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/mvorch/mvorch/inventory"
)

func validateCommand() *cli.Command {
	return &cli.Command{
		Name:      "validate",
		Usage:     "check the inventory offline, touching no host",
		ArgsUsage: "INVENTORY",
		Description: "validate reads the inventory strictly and prints every problem it finds, each with\n" +
			"file:line, the key, the value and what is allowed.",
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return fmt.Errorf("validate needs exactly one argument, the inventory file")
			}
			path := c.Args().First()
			inv, err := inventory.Load(path)
			var probs inventory.Problems
			if errors.As(err, &probs) {
				for _, p := range probs {
					fmt.Fprintln(c.App.ErrWriter, p.String())
				}
				return &exitCodeError{code: exitFailure, err: fmt.Errorf("%s: %d problem(s)", path, len(probs))}
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(c.App.Writer, "%s: valid (%d hosts, %d VLANs, %d networks, %d containers)\n",
				path, len(inv.Hosts), len(inv.VLANs), len(inv.Networks), len(inv.Containers))
			return nil
		},
	}
}
