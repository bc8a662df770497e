// Package steps is the article's procedure as data: each step plans, from a
// host's facts, the changes that bring the host to what the inventory says,
// and records for each change the operations that make it and those that undo it.
//
// A step never touches a host. The runner gathers facts, asks every step in
// order for its changes, prints them (plan) or executes exactly them (run).
package steps

import (
	"github.com/mvorch/mvorch/inventory"
)

// Step is one step of the procedure.
type Step interface {
	// Name is a short identifier used in output and the journal.
	Name() string
	// Title is what a person reads.
	Title() string
	// Plan returns the changes for one host. It reads ctx.Facts (already
	// updated with what earlier steps planned) and updates them with what
	// its own changes will do, so later steps plan against the future state.
	Plan(ctx *Context) ([]*Change, error)
}

// All is the article's procedure, in order.
var All = []Step{
	Promisc{},
	Module8021q{},
	VLANIfcfg{},
	HostAccess{},
	RegistryTrust{},
	DockerRestart{},
	// After docker's restart: the router's firewall unit is part of
	// docker.service, and is best started once docker runs as configured.
	Router{},
	Registry{},
	ImagePush{},
	ImagePull{},
	Networks{},
	Containers{},
}

// Index returns the position of the named step in All, or -1.
func Index(name string) int {
	for i, s := range All {
		if s.Name() == name {
			return i
		}
	}
	return -1
}

// Context is what a step plans from.
type Context struct {
	Inv   *inventory.Inventory
	Host  *inventory.Host
	Facts *Facts
}

// dockerUnused: the host runs no container and not the registry, and
// docker does not run there (a plain Linux host that is only a router):
// mvorch leaves docker alone on it rather than refuse the host.
func (c *Context) dockerUnused() bool {
	if c.Facts.Docker.Active || len(c.Inv.ContainersOn(c.Host.Name)) > 0 {
		return false
	}
	return c.Inv.Registry == nil || c.Inv.Registry.Host != c.Host.Name
}

// Action is what a change does to its target.
type Action string

const (
	ActionAdd     Action = "add"
	ActionChange  Action = "change"
	ActionRemove  Action = "remove"
	ActionReplace Action = "replace"
)

// Symbol is how a plan shows the action.
func (a Action) Symbol() string {
	switch a {
	case ActionAdd:
		return "+"
	case ActionChange:
		return "~"
	case ActionRemove:
		return "-"
	case ActionReplace:
		return "-/+"
	}
	return "?"
}

// Change is one planned change on one host.
type Change struct {
	Step   string `json:"step"`
	Host   string `json:"host"`
	Action Action `json:"action"`
	Target string `json:"target"`
	// Detail says in a few words what happens, e.g. "promisc off -> on".
	Detail string `json:"detail,omitempty"`
	// Diff is a unified diff for file changes.
	Diff string `json:"diff,omitempty"`
	// Warnings are shown beside the change (e.g. containers a restart interrupts).
	Warnings []string `json:"warnings,omitempty"`
	// Conflict is set when the change replaces something mvorch did not make;
	// run refuses it without --replace.
	Conflict string `json:"conflict,omitempty"`
	// Registry is the registry address a trust change is for (journalled,
	// so a later run can tell which flags it added).
	Registry string `json:"-"`
	// Do makes the change; Undo reverts it. Both run in order.
	Do   []Op `json:"-"`
	Undo []Op `json:"-"`
}

// OpKind is the kind of a remote operation.
type OpKind string

const (
	// OpExec runs Cmd (shell text built with runner/sh) on the host.
	OpExec OpKind = "exec"
	// OpWrite writes Data to Path atomically (temp file + rename) with Mode.
	OpWrite OpKind = "write"
	// OpRemove removes Path (missing is fine).
	OpRemove OpKind = "remove"
	// OpRestartDocker runs daemon-reload and restarts docker, waits until it
	// answers, and on failure puts the previous configuration back.
	OpRestartDocker OpKind = "restart-docker"
	// OpReloadDocker makes dockerd re-read daemon.json (Cmd: systemctl
	// reload docker, which sends SIGHUP through the unit's ExecReload) and
	// checks in docker's API that what mvorch sets there took, registry Addr
	// included; when it did not, docker is restarted as by OpRestartDocker
	// (unless a restart follows anyway). Data are the keys to spell out in
	// Path (daemon.json) for the moment of the reload (see reloadDefaults).
	OpReloadDocker OpKind = "reload-docker"
	// OpWaitRegistry waits until the registry answers /v2/ on Addr.
	OpWaitRegistry OpKind = "wait-registry"
)

// Op is one remote operation. Ops are stored in the journal as JSON.
type Op struct {
	Kind OpKind `json:"kind"`
	Cmd  string `json:"cmd,omitempty"`
	Path string `json:"path,omitempty"`
	Data []byte `json:"data,omitempty"`
	Mode uint32 `json:"mode,omitempty"`
	Addr string `json:"addr,omitempty"`
}
