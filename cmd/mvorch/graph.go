package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/mvorch/mvorch/graph"
	"github.com/mvorch/mvorch/inventory"
	"github.com/mvorch/mvorch/runner"
)

// graphOptions is what graph parses from its flags.
type graphOptions struct {
	inventoryPath string
	format        string
	out           string // "" or "-": stdout
	verify        bool
	fromVerify    string
	full          bool
	runner        runner.Options
	stdout        io.Writer
}

func graphCommand() *cli.Command {
	return &cli.Command{
		Name:      "graph",
		Usage:     "draw the network: hosts, VLANs, macvlan networks, containers (--verify: with verify's result)",
		ArgsUsage: "INVENTORY",
		Description: "graph draws what the inventory describes, offline: each host as a box with its NIC, VLAN\n" +
			"sub-interfaces and addresses, the registry and which hosts trust it, each macvlan network as\n" +
			"a coloured segment across the hosts it is on, and the containers with their addresses.\n" +
			"Output is deterministic (inventory order).\n\n" +
			"--format svg (default): one self-contained SVG (no scripts, fonts or links) that a browser\n" +
			"opens; hosts are laid out in rows of at most 6, each row with its networks' segments under\n" +
			"it, so 50 hosts make a taller picture, not a tangle. --format dot: Graphviz\n" +
			"(dot -Tpng FILE > FILE.png). --format mermaid: a Mermaid flowchart (for Markdown).\n\n" +
			"--verify pings as mvorch verify does and draws the result; --from-verify FILE draws a result\n" +
			"saved earlier (mvorch verify --output json, or run --output json). Pairs that should answer\n" +
			"and do not (FAIL, red, dashed) and pairs that should not and do (LEAK, orange) are drawn\n" +
			"between the containers; the SVG adds verify's matrix (or, beyond 24 containers, the list of\n" +
			"pairs that differ) and a legend. With --verify, graph exits 1 when a pair differs, as verify\n" +
			"does, after writing the picture.",
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "format", Value: "svg", Usage: "svg, dot or mermaid"},
			&cli.StringFlag{Name: "out", Aliases: []string{"o"}, Usage: "write to `FILE` rather than stdout"},
			&cli.BoolFlag{Name: "verify", Usage: "ping between the containers now (as mvorch verify) and draw the result"},
			&cli.StringFlag{Name: "from-verify", Usage: "draw the result saved in `FILE` (mvorch verify --output json)"},
			fullFlag(),
		}, slices.DeleteFunc(connectFlags(), func(f cli.Flag) bool { return f.Names()[0] == "no-color" })...), // it prints no text
		Action: func(c *cli.Context) error {
			o, err := parseGraph(c)
			if err != nil {
				return err
			}
			return graphRun(c, o)
		},
	}
}

func parseGraph(c *cli.Context) (*graphOptions, error) {
	if c.NArg() != 1 {
		return nil, fmt.Errorf("graph needs exactly one argument, the inventory file (got %d); see mvorch graph --help", c.NArg())
	}
	o := &graphOptions{
		inventoryPath: c.Args().First(), format: c.String("format"), out: c.String("out"),
		verify: c.Bool("verify"), fromVerify: c.String("from-verify"), full: c.Bool("full"),
		stdout: c.App.Writer,
	}
	if !slices.Contains(graph.Formats, o.format) {
		return nil, fmt.Errorf("--format %q: use %s", o.format, strings.Join(graph.Formats, ", "))
	}
	if o.verify && o.fromVerify != "" {
		return nil, errors.New("--verify pings now and --from-verify reads a saved result: give one of them")
	}
	if o.full && !o.verify {
		return nil, errors.New("--full goes with --verify")
	}
	o.runner = runnerOptions(c, false)
	return o, nil
}

func graphRun(c *cli.Context, o *graphOptions) error {
	inv, err := inventory.Load(o.inventoryPath)
	if err != nil {
		return err
	}
	var res *graph.Result
	switch {
	case o.fromVerify != "":
		f, err := os.Open(o.fromVerify)
		if err != nil {
			return fmt.Errorf("--from-verify: %w", err)
		}
		defer f.Close()
		if res, err = graph.ReadResult(f); err != nil {
			return fmt.Errorf("--from-verify %s: %w", o.fromVerify, err)
		}
	case o.verify:
		if res, err = verifyNow(c, inv, o); err != nil {
			return err
		}
	}
	t, err := graph.Build(inv, res)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := graph.Write(&buf, t, o.format); err != nil {
		return err
	}
	if o.out == "" || o.out == "-" {
		_, err = o.stdout.Write(buf.Bytes())
	} else {
		err = os.WriteFile(o.out, buf.Bytes(), 0o644)
	}
	if err != nil {
		return fmt.Errorf("writing the graph: %w", err)
	}
	if o.verify && !res.OK {
		return &exitCodeError{code: exitFailure, err: fmt.Errorf("verify: %d of %d pairs differ from what is expected (drawn in the graph)", t.Check.Bad(), len(t.Check.Pairs))}
	}
	return nil
}

// verifyNow runs verify on the hosts.
func verifyNow(c *cli.Context, inv *inventory.Inventory, o *graphOptions) (*graph.Result, error) {
	r, err := runner.Connect(c.Context, inv, o.runner)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return r.Verify(c.Context, o.full)
}
