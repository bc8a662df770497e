package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/mvorch/mvorch/inventory"
	"github.com/mvorch/mvorch/steps"
)

func validateCommand() *cli.Command {
	return &cli.Command{
		Name:      "validate",
		Usage:     "check the inventory offline, touching no host",
		ArgsUsage: "INVENTORY",
		Description: "validate reads the inventory strictly and prints every problem it finds, each with\n" +
			"file:line, the key, the value and what is allowed.\n\n" +
			fmt.Sprintf("Two macvlan networks on one parent interface (two networks without vlan, or two with\n"+
				"the same vlan) fail at the networks step under docker before %d, which creates one macvlan\n"+
				"network per parent: validate stops them unless --docker-version says the hosts run %d or\n"+
				"newer (plan checks each host's real version).", steps.MacvlanParentsFrom, steps.MacvlanParentsFrom),
		Flags: []cli.Flag{&cli.IntFlag{Name: "docker-version", Usage: "major `VERSION` of docker on the hosts, if known (from 26, networks may share a parent)"}},
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
			if shared := inv.SharedParents(); len(shared) > 0 && c.Int("docker-version") < steps.MacvlanParentsFrom {
				for _, sp := range shared {
					fmt.Fprintf(c.App.ErrWriter, "%s: networks %s share parent interface %s on %s: docker before %d allows one macvlan network per parent; give each network a vlan of its own, or run docker %d or newer on every host (and say so with --docker-version)\n",
						path, strings.Join(sp.Networks, " and "), sp.Parent, sp.Host, steps.MacvlanParentsFrom, steps.MacvlanParentsFrom)
				}
				return &exitCodeError{code: exitFailure, err: fmt.Errorf("%s: %d problem(s)", path, len(shared))}
			}
			fmt.Fprintf(c.App.Writer, "%s: valid (%d hosts, %d VLANs, %d networks, %d containers)\n",
				path, len(inv.Hosts), len(inv.VLANs), len(inv.Networks), len(inv.Containers))
			return nil
		},
	}
}
