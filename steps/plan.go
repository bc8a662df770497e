package steps

import (
	"errors"
	"fmt"

	"github.com/mvorch/mvorch/inventory"
)

// Plan is every change a run would make, in the order it would make them:
// step by step, and within a step host by host in inventory order.
type Plan struct {
	Changes []*Change
	// Backends say, host by host in inventory order, how each host's
	// network configuration is written, and why.
	Backends []BackendChoice
}

// HostError is a planning or applying failure on one host in one step.
type HostError struct {
	Host string
	Step string
	Err  error
}

func (e *HostError) Error() string { return fmt.Sprintf("%s: %s: %v", e.Host, e.Step, e.Err) }
func (e *HostError) Unwrap() error { return e.Err }

// Build plans every step on every host from the gathered facts, which it
// updates with the planned changes. All problems are reported, not the first.
func Build(inv *inventory.Inventory, facts map[string]*Facts) (*Plan, error) {
	p := &Plan{}
	for i := range inv.Hosts {
		if f := facts[inv.Hosts[i].Name]; f != nil {
			p.Backends = append(p.Backends, ChooseBackend(&inv.Hosts[i], f))
		}
	}
	var errs []error
	failed := map[string]bool{}
	for _, step := range All {
		for i := range inv.Hosts {
			h := &inv.Hosts[i]
			if failed[h.Name] {
				continue
			}
			ctx := &Context{Inv: inv, Host: h, Facts: facts[h.Name]}
			chs, err := step.Plan(ctx)
			if err != nil {
				// Later steps on this host would only repeat the cause.
				failed[h.Name] = true
				errs = append(errs, &HostError{Host: h.Name, Step: step.Name(), Err: err})
				continue
			}
			p.Changes = append(p.Changes, chs...)
		}
	}
	return p, errors.Join(errs...)
}

// Summary counts changes as a plan line does: a replacement is one to add
// and one to remove.
type Summary struct {
	Add    int `json:"add"`
	Change int `json:"change"`
	Remove int `json:"remove"`
}

func (p *Plan) Summary() Summary {
	var s Summary
	for _, ch := range p.Changes {
		switch ch.Action {
		case ActionAdd:
			s.Add++
		case ActionChange:
			s.Change++
		case ActionRemove:
			s.Remove++
		case ActionReplace:
			s.Add++
			s.Remove++
		}
	}
	return s
}

// Empty reports whether there is nothing to do.
func (p *Plan) Empty() bool { return len(p.Changes) == 0 }

// Conflicts are the replacements of things mvorch did not make.
func (p *Plan) Conflicts() []*Change {
	var out []*Change
	for _, ch := range p.Changes {
		if ch.Conflict != "" {
			out = append(out, ch)
		}
	}
	return out
}
