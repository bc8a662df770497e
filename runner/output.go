package runner

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/mvorch/mvorch/runner/udiff"
	"github.com/mvorch/mvorch/steps"
)

// PlanJSON is the contract shape of `plan --output json`.
type PlanJSON struct {
	Summary steps.Summary   `json:"summary"`
	Changes []*steps.Change `json:"changes"`
	// NetworkConfig is each host's network backend and why it got it.
	NetworkConfig []steps.BackendChoice `json:"network_config"`
}

// WritePlanJSON prints a plan as one JSON object.
func WritePlanJSON(w io.Writer, p *steps.Plan) error {
	changes := p.Changes
	if changes == nil {
		changes = []*steps.Change{}
	}
	backends := p.Backends
	if backends == nil {
		backends = []steps.BackendChoice{}
	}
	return writeJSON(w, PlanJSON{Summary: p.Summary(), Changes: changes, NetworkConfig: backends})
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// WritePlanText prints a plan as a person reads it: step by step, host by
// host, with a diff for every file and the summary line.
func WritePlanText(w io.Writer, p *steps.Plan, color bool) {
	paint := func(code, s string) string {
		if !color {
			return s
		}
		return "\x1b[" + code + "m" + s + "\x1b[0m"
	}
	symColor := map[steps.Action]string{steps.ActionAdd: "32", steps.ActionChange: "33", steps.ActionRemove: "31", steps.ActionReplace: "35"}
	if len(p.Backends) > 0 {
		fmt.Fprintf(w, "%s\n", paint("1", "Network configuration"))
		for _, b := range p.Backends {
			name := b.Backend
			if name == "" {
				name = paint("31", "none")
			}
			fmt.Fprintf(w, "  %s  %s  %s\n", b.Host, name, paint("2", "("+b.Why+")"))
		}
		fmt.Fprintln(w)
	}
	for i, step := range steps.All {
		var chs []*steps.Change
		for _, ch := range p.Changes {
			if ch.Step == step.Name() {
				chs = append(chs, ch)
			}
		}
		if len(chs) == 0 {
			continue
		}
		fmt.Fprintf(w, "%s\n", paint("1", fmt.Sprintf("Step %d/%d  %s  (%s)", i+1, len(steps.All), step.Title(), step.Name())))
		host := ""
		for _, ch := range chs {
			if ch.Host != host {
				host = ch.Host
				fmt.Fprintf(w, "  %s\n", host)
			}
			line := fmt.Sprintf("    %s %s", paint(symColor[ch.Action], fmt.Sprintf("%-3s", ch.Action.Symbol())), ch.Target)
			if ch.Detail != "" {
				line += "  " + paint("2", ch.Detail)
			}
			fmt.Fprintln(w, line)
			for _, warn := range ch.Warnings {
				fmt.Fprintf(w, "        %s %s\n", paint("33", "warning:"), warn)
			}
			if ch.Conflict != "" {
				fmt.Fprintf(w, "        %s %s (run needs --replace)\n", paint("31", "conflict:"), ch.Conflict)
			}
			if ch.Diff != "" {
				diff := ch.Diff
				if color {
					diff = udiff.Colorize(diff)
				}
				for _, l := range strings.Split(strings.TrimRight(diff, "\n"), "\n") {
					fmt.Fprintf(w, "        %s\n", l)
				}
			}
		}
		fmt.Fprintln(w)
	}
	s := p.Summary()
	if p.Empty() {
		fmt.Fprintln(w, "No changes: the hosts match the inventory.")
	}
	fmt.Fprintf(w, "Plan: %d to add, %d to change, %d to remove.\n", s.Add, s.Change, s.Remove)
}

// RunJSON is the contract shape of `run --output json`.
type RunJSON struct {
	Summary struct {
		Added     int `json:"added"`
		Changed   int `json:"changed"`
		Removed   int `json:"removed"`
		Unchanged int `json:"unchanged"`
		Failed    int `json:"failed"`
	} `json:"summary"`
	Changes   []*steps.Change `json:"changes"`
	ElapsedS  float64         `json:"elapsed_seconds"`
	StoppedAt string          `json:"stopped_at,omitempty"`
	Error     string          `json:"error,omitempty"`
	Verify    *VerifyReport   `json:"verify"`
}

// WriteVerifyText prints the connectivity matrix: rows ping, columns answer.
func WriteVerifyText(w io.Writer, v *VerifyReport) {
	labels := pairLabels(v.Pairs)
	got := map[[2]string]Pair{}
	width := 6
	for _, c := range v.Containers {
		width = max(width, len(c)+2)
	}
	for _, p := range v.Pairs {
		got[[2]string{labels.Label(p.FromHost, p.From), labels.Label(p.ToHost, p.To)}] = p
	}
	if v.Mode == "sampled" {
		writeVerifySample(w, v, labels)
		return
	}
	fmt.Fprintln(w, "Verify: ping from each container (rows) to each other container (columns)")
	fmt.Fprintf(w, "%-*s", width, "")
	for _, c := range v.Containers {
		fmt.Fprintf(w, "%-*s", width, c)
	}
	fmt.Fprintln(w)
	bad := 0
	for _, from := range v.Containers {
		fmt.Fprintf(w, "%-*s", width, from)
		for _, to := range v.Containers {
			p, ok := got[[2]string{from, to}]
			cell := "."
			switch {
			case !ok:
			case p.Expect == p.Got && p.Got && p.RoutedBy != "":
				cell = "rt"
			case p.Expect == p.Got && p.Got:
				cell = "ok"
			case p.Expect == p.Got:
				cell = "--"
			case p.Got:
				cell = "LEAK"
				bad++
			default:
				cell = "FAIL"
				bad++
			}
			fmt.Fprintf(w, "%-*s", width, cell)
		}
		fmt.Fprintln(w)
	}
	if len(v.Routers) == 0 {
		fmt.Fprintln(w, "ok: reachable, as expected (same network)   --: unreachable, as expected (different networks)")
	} else {
		fmt.Fprintln(w, "ok: reachable, as expected (same network)   rt: reachable through a router, as expected   --: unreachable, as expected (different networks, no router joins both)")
	}
	writeRouters(w, v.Routers)
	hostBad := writeHostPairs(w, v.HostPairs, false)
	if bad+hostBad > 0 {
		fmt.Fprintln(w, "FAIL: expected reachable, got no answer   LEAK: expected unreachable, got an answer")
	}
	writeVerifyVerdict(w, v, bad, hostBad)
}

// writeVerifyVerdict prints the problems and the last lines: the hosts'
// pings on a line of their own when some differ, how many pairs differ, and
// how many containers could not ping at all.
func writeVerifyVerdict(w io.Writer, v *VerifyReport, bad, hostBad int) {
	for _, p := range v.Problems {
		fmt.Fprintln(w, "could not ping from", p)
	}
	if hostBad > 0 {
		fmt.Fprintf(w, "Hosts: %d of %d pings differ from what is expected.\n", hostBad, len(v.HostPairs))
	}
	switch {
	case bad == 0 && hostBad == 0 && len(v.Problems) == 0:
		fmt.Fprintf(w, "Verify: all %d pairs as expected.\n", len(v.Pairs))
	case bad == 0 && hostBad == 0:
		fmt.Fprintf(w, "Verify: all %d pairs as expected, but %d problem(s) above: verify fails.\n", len(v.Pairs), len(v.Problems))
	case bad == 0:
		fmt.Fprintf(w, "Verify: all %d pairs of containers as expected; the hosts' pings above differ.\n", len(v.Pairs))
	default:
		fmt.Fprintf(w, "Verify: %d of %d pairs differ from what is expected.\n", bad, len(v.Pairs))
	}
}

// writeVerifySample prints a sampled check as a list: a matrix of a
// hundred columns, mostly unchecked, says less than the pairs that differ.
func writeVerifySample(w io.Writer, v *VerifyReport, labels Labeler) {
	fmt.Fprintf(w, "Verify: %d containers, %d pings: each container to the next of its network and to one of each other network (--full: every pair)\n", len(v.Containers), len(v.Pairs))
	writeRouters(w, v.Routers)
	hostBad := writeHostPairs(w, v.HostPairs, true)
	bad := 0
	for _, p := range v.Pairs {
		switch {
		case p.Expect == p.Got:
			continue
		case p.Got:
			fmt.Fprintf(w, "LEAK  %s -> %s: answered, but they are on different networks and no router joins both\n", labels.Label(p.FromHost, p.From), labels.Label(p.ToHost, p.To))
		case p.RoutedBy != "":
			fmt.Fprintf(w, "FAIL  %s -> %s: no answer, but %s routes between their networks\n", labels.Label(p.FromHost, p.From), labels.Label(p.ToHost, p.To), p.RoutedBy)
		default:
			fmt.Fprintf(w, "FAIL  %s -> %s: no answer, but they share a network\n", labels.Label(p.FromHost, p.From), labels.Label(p.ToHost, p.To))
		}
		bad++
	}
	writeVerifyVerdict(w, v, bad, hostBad)
}

// writeRouters says which networks reach each other through which host.
func writeRouters(w io.Writer, routers []VerifyRouter) {
	for _, r := range routers {
		fmt.Fprintf(w, "routed: %s forwards between %s\n", r.Host, strings.Join(r.Networks, ", "))
	}
}

// pairLabels is the Labeler of the containers the pairs name.
func pairLabels(pairs []Pair) Labeler {
	var hn [][2]string
	for _, p := range pairs {
		hn = append(hn, [2]string{p.FromHost, p.From}, [2]string{p.ToHost, p.To})
	}
	return NewLabeler(hn)
}

// writeHostPairs prints the pings between hosts and their own containers,
// one line each (only those that differ when onlyBad), and returns how
// many differ from what is expected.
func writeHostPairs(w io.Writer, pairs []Pair, onlyBad bool) int {
	bad, header := 0, false
	for _, p := range pairs {
		if onlyBad && p.Expect == p.Got {
			continue
		}
		if !header && !onlyBad {
			fmt.Fprintln(w, "Hosts and their own containers (host access: a macvlan shim on the host):")
			header = true
		}
		from, to := p.From, p.To
		if p.FromKind == KindHost {
			from = "host " + from
		}
		if p.ToKind == KindHost {
			to = "host " + to + " (" + p.ToAddr + ")"
		}
		cell := "ok"
		switch {
		case p.Expect == p.Got && !p.Got:
			cell = "--  (no host access: a macvlan child cannot reach its parent)"
		case p.Got && !p.Expect:
			cell, bad = "LEAK: answered, without host access", bad+1
		case !p.Got && p.Expect:
			cell, bad = "FAIL: no answer, with host access", bad+1
		}
		fmt.Fprintf(w, "  %s -> %s: %s\n", from, to, cell)
	}
	if header && bad == 0 {
		fmt.Fprintf(w, "Hosts: all %d pings as expected.\n", len(pairs))
	}
	return bad
}

// WriteVerifyJSON prints the contract shape of `verify --output json`.
func WriteVerifyJSON(w io.Writer, v *VerifyReport) error { return writeJSON(w, v) }

// WriteRunJSON prints the contract shape of `run --output json`.
func WriteRunJSON(w io.Writer, r *RunJSON) error {
	if r.Changes == nil {
		r.Changes = []*steps.Change{}
	}
	return writeJSON(w, r)
}

// WriteRollbackJSON prints what a rollback did.
func WriteRollbackJSON(w io.Writer, rep *RollbackReport, err error) error {
	out := struct {
		Undone   int     `json:"undone"`
		Failed   int     `json:"failed"`
		ElapsedS float64 `json:"elapsed_seconds"`
		Error    string  `json:"error,omitempty"`
	}{Undone: rep.Undone, Failed: rep.Failed, ElapsedS: rep.Elapsed.Seconds()}
	if err != nil {
		out.Error = err.Error()
	}
	return writeJSON(w, out)
}
