package runner

import (
	"context"
	"encoding/json"
	"time"

	"github.com/mvorch/mvorch/runner/sh"
	"github.com/mvorch/mvorch/runner/transport"
	"github.com/mvorch/mvorch/steps"
)

// journal appends records to one host's /var/lib/mvorch/journal.jsonl.
// A "begin" record is written and synced before its change is made; the
// "done" records are carried along with the next write, since a change whose
// done is lost is undone all the same (every undo is safe to repeat).
type journal struct {
	client  *transport.Client
	pending []string
}

func (j *journal) line(rec steps.Record) string {
	rec.Time = time.Now().UTC().Format(time.RFC3339Nano)
	b, _ := json.Marshal(rec)
	return string(b)
}

// appendCmd is the shell text that appends lines durably.
func appendCmd(lines []string) sh.Command {
	return sh.New("mkdir", "-p", steps.JournalDir).Raw("&&").
		Arg("printf", "%s\\n").Arg(lines...).Raw(">>").Arg(steps.JournalFile).Raw("&& sync")
}

// begin records a change (and any pending done records) before it is made.
func (j *journal) begin(ctx context.Context, rec steps.Record) error {
	rec.Type = steps.RecBegin
	lines := append(j.pending, j.line(rec))
	if _, err := j.client.Run(ctx, appendCmd(lines).String(), nil); err != nil {
		return err
	}
	j.pending = nil
	return nil
}

func (j *journal) done(rec steps.Record) {
	j.pending = append(j.pending, j.line(steps.Record{Type: steps.RecDone, Run: rec.Run, Seq: rec.Seq}))
}

func (j *journal) undone(rec steps.Record) {
	j.pending = append(j.pending, j.line(steps.Record{Type: steps.RecUndone, Run: rec.Run, Seq: rec.Seq}))
}

// flush writes pending records; it uses a fresh context so that what was
// done is recorded even when the command is being interrupted.
func (j *journal) flush() error {
	if len(j.pending) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := j.client.Run(ctx, appendCmd(j.pending).String(), nil); err != nil {
		return err
	}
	j.pending = nil
	return nil
}
