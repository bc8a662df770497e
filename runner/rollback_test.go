package runner

import (
	"testing"

	"github.com/mvorch/mvorch/steps"
)

// The run rollback undoes is the newest with anything left on any host, not
// each host's own newest: a host the newest run left alone keeps older runs.
func TestLastRunIsTheFleetsNewest(t *testing.T) {
	entry := func(run string) *steps.Entry { return &steps.Entry{Begin: steps.Record{Run: run}} }
	a, b := "20261126T190946.315Z-7592", "20261127T080000.001Z-12"
	live := map[string][]*steps.Entry{
		"docker01": {entry(a), entry(b)},
		"docker02": {entry(a)},
		"docker03": nil,
	}
	if got := lastRun(live); got != b {
		t.Errorf("lastRun = %q, want %q (docker02's newest is older)", got, b)
	}
	// Fixed-width times sort by time, also across a change of day or year.
	live = map[string][]*steps.Entry{"h": {entry("20261231T235959.999Z-9"), entry("20270101T000000.000Z-1")}}
	if got := lastRun(live); got != "20270101T000000.000Z-1" {
		t.Errorf("lastRun across the year = %q", got)
	}
	if got := lastRun(map[string][]*steps.Entry{"h": nil}); got != "" {
		t.Errorf("lastRun with nothing to undo = %q, want empty", got)
	}
}
