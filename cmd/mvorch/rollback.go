package main

import (
	"bufio"
	"fmt"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/mvorch/mvorch/runner"
)

func rollbackCommand() *cli.Command {
	return &cli.Command{
		Name:      "rollback",
		Usage:     "undo the last run on every host (--all: everything mvorch ever changed)",
		ArgsUsage: "INVENTORY",
		Description: "rollback reads the journal each host keeps in /var/lib/mvorch/journal.jsonl and undoes\n" +
			"changes newest first: containers, images, the registry, networks, docker's trust\n" +
			"configuration (restored byte for byte, with one daemon-reload + restart per host),\n" +
			"ifcfg files and interfaces, the 8021q module file, promiscuous mode. Nothing mvorch\n" +
			"found already there is removed. Without --all it undoes the most recent run that has\n" +
			"anything left to undo, on the hosts that run changed (the others keep what older runs\n" +
			"made); the next rollback undoes the run before it.",
		Flags: append(hostFlags(),
			&cli.BoolFlag{Name: "all", Usage: "undo every change mvorch ever made: the hosts as before its first run"},
			&cli.BoolFlag{Name: "dry-run", Usage: "show the undo as a plan and change nothing"},
			&cli.BoolFlag{Name: "yes", Aliases: []string{"y"}, Usage: "do not ask for confirmation on a terminal"},
		),
		Action: func(c *cli.Context) error {
			o, err := parseCommon(c)
			if err != nil {
				return err
			}
			return rollbackRun(c, o)
		},
	}
}

func rollbackRun(c *cli.Context, o *common) error {
	ctx := c.Context
	inv, err := o.load()
	if err != nil {
		return err
	}
	log := o.runner.Log
	o.runner.Log = nil
	r, err := runner.Connect(ctx, inv, o.runner)
	if err != nil {
		return err
	}
	defer r.Close()
	if !c.Bool("dry-run") {
		if err := r.Lock(ctx); err != nil {
			return err
		}
	}
	rp, err := r.PlanRollback(ctx, c.Bool("all"))
	if err != nil {
		return err
	}
	if o.output == "json" && c.Bool("dry-run") {
		return runner.WritePlanJSON(o.stdout, rp.Plan)
	}
	if o.output == "text" {
		runner.WritePlanText(o.stdout, rp.Plan, o.color)
	}
	if c.Bool("dry-run") || rp.Plan.Empty() {
		return nil
	}
	if !c.Bool("yes") && isTerminal(os.Stdin) && !confirm(c, "Undo these changes?") {
		return &exitCodeError{code: exitFailure, err: fmt.Errorf("rollback cancelled; nothing changed")}
	}
	if log == nil && o.output == "text" {
		log = o.stderr
	}
	r.SetLog(log)
	rep, err := r.Rollback(ctx, rp)
	if o.output == "json" {
		if jerr := runner.WriteRollbackJSON(o.stdout, rep, err); jerr != nil {
			return jerr
		}
	} else {
		state := "complete"
		if err != nil {
			state = "stopped"
		}
		fmt.Fprintf(o.stdout, "Rollback %s: %d change(s) undone in %.1fs.\n", state, rep.Undone, rep.Elapsed.Seconds())
	}
	return err
}

func confirm(c *cli.Context, question string) bool {
	fmt.Fprintf(c.App.Writer, "%s Only 'yes' is accepted: ", question)
	line, _ := bufio.NewReader(c.App.Reader).ReadString('\n')
	return strings.TrimSpace(line) == "yes"
}
