// Command mvorch builds Docker cross-host macvlan networking on a set of
// Linux hosts over SSH, in ordered steps that a plan previews and a rollback
// undoes.
package main

import (
	"os"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "0.1.0-dev"

func main() {
	os.Exit(run(os.Args, os.Stdin, os.Stdout, os.Stderr))
}
