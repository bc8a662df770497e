package runner

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/mvorch/mvorch/inventory"
	"github.com/mvorch/mvorch/runner/transport"
	"github.com/mvorch/mvorch/steps"
)

// hostCommands stands in for a host's connection: it records commands and
// fails them once failing is set.
type hostCommands struct {
	cmds    []string
	failing error
}

func (h *hostCommands) Run(_ context.Context, cmd string, _ []byte) (transport.Result, error) {
	h.cmds = append(h.cmds, cmd)
	return transport.Result{}, h.failing
}

// The journal's last records (the done records of the last changes) are
// written when the run ends. When that write fails the run still succeeds
// (every undo is safe to repeat), but the user is told, naming the host,
// and -v shows the hosts whose write went through.
func TestFinalJournalFlushFailureIsReported(t *testing.T) {
	var warn, log bytes.Buffer
	r := &Runner{inv: &inventory.Inventory{Hosts: []inventory.Host{{Name: "docker01"}, {Name: "docker02"}}},
		opts: Options{Warn: &warn, Log: &log, Verbose: 1}}
	ok, broken := &hostCommands{}, &hostCommands{failing: errors.New("connection lost")}
	journals := map[string]*journal{"docker01": {host: "docker01", client: ok}, "docker02": {host: "docker02", client: broken}}
	for _, j := range journals {
		rec := steps.Record{Run: "r1", Seq: 1, Step: "containers", Target: "container bbox10"}
		if err := j.begin(context.Background(), rec); err != nil && j.client == ok {
			t.Fatal(err)
		}
		j.done(rec)
	}
	r.flushJournals(journals)
	if len(ok.cmds) != 2 || !strings.Contains(ok.cmds[1], `"type":"done"`) {
		t.Errorf("docker01's done record was not written: %q", ok.cmds)
	}
	want := "mvorch: warning: docker02: the journal's last 1 record(s) could not be written (connection lost)"
	if !strings.Contains(warn.String(), want) || strings.Contains(warn.String(), "docker01") {
		t.Errorf("warnings: %q, want one naming docker02 only: %q", warn.String(), want)
	}
	if !strings.Contains(log.String(), "docker01: journal's last 1 record(s) written") {
		t.Errorf("-v log lacks docker01's final journal write: %q", log.String())
	}
}
