package runner

import (
	"context"
	"encoding/json"
	"fmt"
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
	host    string
	client  commandRunner
	pending []string
}

// commandRunner runs a command on a host (a *transport.Client).
type commandRunner interface {
	Run(ctx context.Context, cmd string, stdin []byte) (transport.Result, error)
}

// flushJournals writes what each journal still holds, at the end of a run.
// A record lost here is a done record: the change was made and rollback
// undoes it all the same (every undo is safe to repeat), so the run does
// not fail, but the user is told which host's journal is behind.
func (r *Runner) flushJournals(journals map[string]*journal) {
	for _, name := range r.hostNames() {
		j := journals[name]
		if j == nil {
			continue
		}
		n, t0 := len(j.pending), time.Now()
		if err := j.flush(); err != nil {
			r.warnOnce(fmt.Sprintf("%s: the journal's last %d record(s) could not be written (%v); the changes were made and rollback still undoes them", name, n, err))
			continue
		}
		if n > 0 {
			r.timing(name, fmt.Sprintf("journal's last %d record(s) written", n), t0)
		}
	}
}

func (j *journal) line(rec steps.Record) string {
	rec.Time = time.Now().UTC().Format(time.RFC3339Nano)
	b, _ := json.Marshal(rec)
	return string(b)
}

// appendCmd is the shell text that appends lines durably. The journal
// holds the former content of every file mvorch replaced (a NetworkManager
// profile or daemon.json can hold secrets), so its directory is root's only
// (0700) and the file 0600: made so under umask 077, and put right on every
// write for a journal an older mvorch left readable by every local user.
func appendCmd(lines []string) sh.Command {
	return sh.Join(sh.New("umask", "077"),
		sh.New("mkdir", "-p", steps.JournalDir),
		sh.New("chmod", "700", steps.JournalDir),
		sh.New("printf", "%s\\n").Arg(lines...).Raw(">>").Arg(steps.JournalFile),
		sh.New("chmod", "600", steps.JournalFile),
		sh.New("sync"))
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
