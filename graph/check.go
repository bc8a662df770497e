package graph

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/mvorch/mvorch/runner"
)

// Result is verify's result: what `mvorch verify --output json` prints
// (runner.VerifyReport is that JSON contract, and this reads it). A
// container is its name and its host.
type Result = runner.VerifyReport

// ReadResult reads what `mvorch verify --output json` printed, or what
// `mvorch run --output json` printed (its "verify" member).
func ReadResult(r io.Reader) (*Result, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	var probe struct {
		Pairs  json.RawMessage `json:"pairs"`
		Verify json.RawMessage `json:"verify"`
	}
	if err := json.Unmarshal(data, &probe); err != nil {
		return nil, fmt.Errorf("reading verify's JSON: %w", err)
	}
	if probe.Pairs == nil && probe.Verify != nil && !bytes.Equal(probe.Verify, []byte("null")) {
		data = probe.Verify
	} else if probe.Pairs == nil {
		return nil, errors.New(`reading verify's JSON: no "pairs" (expected the output of mvorch verify --output json or run --output json)`)
	}
	var res Result
	if err := json.Unmarshal(data, &res); err != nil {
		return nil, fmt.Errorf("reading verify's JSON: %w", err)
	}
	return &res, nil
}

// Status is what became of one checked pair.
type Status int

const (
	// StatusOK: expected to answer, answered.
	StatusOK Status = iota
	// StatusQuiet: expected not to answer (different networks), did not.
	StatusQuiet
	// StatusFail: expected to answer, did not.
	StatusFail
	// StatusLeak: expected not to answer, answered.
	StatusLeak
)

// Cell is how verify's matrix prints a status.
func (s Status) Cell() string {
	return [...]string{"ok", "--", "FAIL", "LEAK"}[s]
}

// Bad says the pair differs from what is expected.
func (s Status) Bad() bool { return s == StatusFail || s == StatusLeak }

func (s Status) color() string {
	return [...]string{colorOK, colorQuiet, colorFail, colorLeak}[s]
}

// Check is a verify result tied to the Topology's containers.
type Check struct {
	Mode     string // "full" or "sampled"
	Pairs    []Pair
	Problems []string
}

// Pair is one checked ping between two containers of the Topology.
type Pair struct {
	From, To    int // indexes in Topology.Containers
	Expect, Got bool
}

// Status of the pair.
func (p Pair) Status() Status {
	switch {
	case p.Expect && p.Got:
		return StatusOK
	case p.Expect:
		return StatusFail
	case p.Got:
		return StatusLeak
	}
	return StatusQuiet
}

// Bad counts the pairs that differ from what is expected.
func (c *Check) Bad() int {
	n := 0
	for _, p := range c.Pairs {
		if p.Status().Bad() {
			n++
		}
	}
	return n
}

// check ties res to t's containers: a pair naming a container the
// inventory does not have means the result is of another inventory.
func (t *Topology) check(res *Result) (*Check, error) {
	c := &Check{Mode: res.Mode, Problems: res.Problems}
	for _, p := range res.Pairs {
		from, err := t.container(p.From, p.FromHost)
		if err != nil {
			return nil, err
		}
		to, err := t.container(p.To, p.ToHost)
		if err != nil {
			return nil, err
		}
		c.Pairs = append(c.Pairs, Pair{From: from, To: to, Expect: p.Expect, Got: p.Got})
	}
	return c, nil
}

// container finds a container by name and host; host may be "" (an older
// verify's JSON) when the name is used on one host only.
func (t *Topology) container(name, host string) (int, error) {
	found := -1
	for i, c := range t.Containers {
		if c.Name != name || (host != "" && c.Host != host) {
			continue
		}
		if found >= 0 {
			return 0, fmt.Errorf("verify's result names container %s without its host, and more than one host has it", name)
		}
		found = i
	}
	if found < 0 {
		where := ""
		if host != "" {
			where = " on " + host
		}
		return 0, fmt.Errorf("verify's result names container %s%s, which the inventory does not have: was it made for another inventory?", name, where)
	}
	return found, nil
}

// Link is a line between two containers: the pairs between them with one
// status, merged when both directions agree.
type Link struct {
	A, B   int // container indexes; A pinged B (and B pinged A when Both)
	Status Status
	Both   bool
}

// links are what the pictures draw of a check: every pair that answered
// or should have (ok, FAIL, LEAK); a pair expected to stay quiet that did
// is the absence of a line. In order of the pairs.
func (c *Check) links(badOnly bool) []Link {
	var out []Link
	seen := map[[3]int]int{} // from, to, status -> index in out
	for _, p := range c.Pairs {
		s := p.Status()
		if s == StatusQuiet || (badOnly && !s.Bad()) {
			continue
		}
		if i, ok := seen[[3]int{p.To, p.From, int(s)}]; ok {
			out[i].Both = true
			continue
		}
		if _, ok := seen[[3]int{p.From, p.To, int(s)}]; ok {
			continue
		}
		seen[[3]int{p.From, p.To, int(s)}] = len(out)
		out = append(out, Link{A: p.From, B: p.To, Status: s})
	}
	return out
}

// summary is one line about the check.
func (c *Check) summary() string {
	bad := c.Bad()
	mode := ""
	if c.Mode == "sampled" {
		mode = " (sampled)"
	}
	if bad == 0 {
		return fmt.Sprintf("verify: all %d pairs as expected%s", len(c.Pairs), mode)
	}
	return fmt.Sprintf("verify: %d of %d pairs differ from what is expected%s", bad, len(c.Pairs), mode)
}
