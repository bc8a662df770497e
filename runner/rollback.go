package runner

import (
	"context"
	"errors"
	"fmt"
	"path"
	"sync"
	"time"

	"github.com/mvorch/mvorch/inventory"
	"github.com/mvorch/mvorch/runner/sh"
	"github.com/mvorch/mvorch/runner/transport"
	"github.com/mvorch/mvorch/runner/udiff"
	"github.com/mvorch/mvorch/steps"
)

// undoItem is one journal entry to undo on one host.
type undoItem struct {
	host  string
	entry *steps.Entry
}

// RollbackPlan lists, per host and newest first, the changes a rollback undoes.
type RollbackPlan struct {
	items []undoItem
	// Plan shows the undo in the plan format.
	Plan *steps.Plan
}

// PlanRollback reads every host's journal. With all, every change mvorch
// ever made and has not undone is listed; otherwise those of the most recent
// run that has anything left to undo, on each host it changed. A host that
// run left alone keeps what older runs made there: undoing its own latest
// run would take the fleet back to different points on different hosts.
func (r *Runner) PlanRollback(ctx context.Context, all bool) (*RollbackPlan, error) {
	if err := r.Gather(ctx); err != nil {
		return nil, err
	}
	rp := &RollbackPlan{Plan: &steps.Plan{}}
	live := map[string][]*steps.Entry{}
	for _, h := range r.inv.Hosts {
		live[h.Name] = steps.Live(steps.ParseJournal(r.facts[h.Name].Journal))
	}
	last := lastRun(live)
	for _, h := range r.inv.Hosts {
		live := live[h.Name]
		for i := len(live) - 1; i >= 0; i-- {
			e := live[i]
			if !all && e.Begin.Run != last {
				continue
			}
			rp.items = append(rp.items, undoItem{host: h.Name, entry: e})
			rp.Plan.Changes = append(rp.Plan.Changes, r.undoChange(h.Name, e))
		}
	}
	return rp, nil
}

// lastRun is the most recent run with something left to undo on any host.
// A run's ID begins with its start time in UTC at a fixed width
// (20261126T190946.315Z-7592), so IDs sort by time.
func lastRun(live map[string][]*steps.Entry) string {
	last := ""
	for _, entries := range live {
		for _, e := range entries {
			if e.Begin.Run > last {
				last = e.Begin.Run
			}
		}
	}
	return last
}

// undoChange shows an undo as a change: the inverse action, and for files a
// diff from what is there now to what the undo puts back.
func (r *Runner) undoChange(host string, e *steps.Entry) *steps.Change {
	b := e.Begin
	inverse := map[steps.Action]steps.Action{steps.ActionAdd: steps.ActionRemove, steps.ActionRemove: steps.ActionAdd,
		steps.ActionChange: steps.ActionChange, steps.ActionReplace: steps.ActionReplace}
	ch := &steps.Change{Step: b.Step, Host: host, Action: inverse[b.Action], Target: b.Target,
		Detail: fmt.Sprintf("undo %s of run %s", b.Action, b.Run), Undo: b.Undo}
	if !e.Done {
		ch.Detail += " (interrupted: may not have been made)"
	}
	files := r.facts[host].Files
	for _, op := range b.Undo {
		var now []byte
		if f := files[op.Path]; f != nil {
			now = f.Data
		}
		switch op.Kind {
		case steps.OpWrite:
			ch.Diff += udiff.Unified(op.Path, op.Path, now, op.Data, 3)
		case steps.OpRemove:
			ch.Diff += udiff.Unified(op.Path, op.Path, now, nil, 3)
		}
	}
	return ch
}

// RollbackReport is what a rollback did.
type RollbackReport struct {
	Undone  int
	Failed  int
	Elapsed time.Duration
}

// Rollback undoes the planned entries, newest first on each host, hosts in
// parallel. Docker is restarted once per host, after the trust changes that
// preceded its restart are undone; it is never left down, even on failure.
func (r *Runner) Rollback(ctx context.Context, rp *RollbackPlan) (*RollbackReport, error) {
	start := time.Now()
	rep := &RollbackReport{}
	byHost := map[string][]*steps.Entry{}
	var hosts []string
	for _, it := range rp.items {
		if byHost[it.host] == nil {
			hosts = append(hosts, it.host)
		}
		byHost[it.host] = append(byHost[it.host], it.entry)
	}
	var mu sync.Mutex
	err := r.forEachHost(ctx, "rollback", hosts, func(ctx context.Context, h *inventory.Host) error {
		n, err := r.rollbackHost(ctx, h.Name, byHost[h.Name])
		mu.Lock()
		rep.Undone += n
		if err != nil {
			rep.Failed++
		}
		mu.Unlock()
		return err
	})
	rep.Elapsed = time.Since(start)
	return rep, err
}

func (r *Runner) rollbackHost(ctx context.Context, host string, entries []*steps.Entry) (undone int, err error) {
	c := r.clients[host]
	j := &journal{client: c}
	// What docker owes once the trust changes are undone: a restart, or
	// (when every run being undone only reloaded it) a reload, made with the
	// oldest run's operation since its files are the ones put back.
	restart := false
	var reload *steps.Op
	trustIdx := steps.Index((steps.RegistryTrust{}).Name())
	flushRestart := func() error {
		if !restart && reload == nil {
			return nil
		}
		t0 := time.Now()
		bg := inFlight(ctx)
		var err error
		target := "docker.service"
		if restart {
			err = r.restartKeepingContainers(bg, host)
		} else {
			target += " (reload)"
			_, err = r.reloadOrRestart(bg, host, *reload, func() error { return restartDocker(bg, c) })
		}
		restart, reload = false, nil
		r.progressLine(host, (steps.DockerRestart{}).Name(), steps.ActionChange.Symbol(), target, err, time.Since(t0))
		return err
	}
	defer func() {
		// Docker is never left down: a restart owed is made whatever happened.
		if rerr := flushRestart(); rerr != nil && err == nil {
			err = rerr
		}
		if ferr := j.flush(); ferr != nil && err == nil {
			err = ferr
		}
	}()
	if err := removeStaleTemps(ctx, c, entries); err != nil {
		return 0, err
	}
	for i, e := range entries {
		if ctx.Err() != nil {
			return undone, ctx.Err()
		}
		if e.Begin.Step == (steps.DockerRestart{}).Name() {
			owed := true // a journal without undo operations here is from before reloads: restart
			for _, op := range e.Begin.Undo {
				if op.Kind == steps.OpReloadDocker {
					reload, owed = &op, false
				}
			}
			restart = restart || owed
			j.undone(e.Begin)
			undone++
			continue
		}
		t0 := time.Now()
		var opErr error
		for _, op := range e.Begin.Undo {
			if op.Kind == steps.OpRestartDocker {
				restart = true
				continue
			}
			if opErr = r.runOp(inFlight(ctx), c, op); opErr != nil {
				break
			}
		}
		r.progressLine(host, e.Begin.Step, "undo", e.Begin.Target, opErr, time.Since(t0))
		if opErr != nil {
			return undone, fmt.Errorf("undoing %s %s: %w", e.Begin.Action, e.Begin.Target, opErr)
		}
		j.undone(e.Begin)
		undone++
		// The restart waits until the trust changes before it are undone too.
		if (restart || reload != nil) && (i+1 == len(entries) || steps.Index(entries[i+1].Step()) < trustIdx) {
			if err := flushRestart(); err != nil {
				return undone, err
			}
		}
	}
	return undone, nil
}

func status(err error) string {
	if err != nil {
		return "FAILED"
	}
	return "ok"
}

// removeStaleTemps deletes the temporary files a killed write left beside
// the files being undone (".NAME.mvorch-*", see transport.WriteFileAtomic),
// so that nothing of mvorch stays and empty directories can go.
func removeStaleTemps(ctx context.Context, c *transport.Client, entries []*steps.Entry) error {
	seen := map[string]bool{}
	cmd := sh.New("true")
	for _, e := range entries {
		for _, p := range e.Begin.Writes {
			stem := path.Join(path.Dir(p), "."+path.Base(p)+".mvorch-")
			if seen[stem] {
				continue
			}
			seen[stem] = true
			// "$1"* : the quoted stem, then the glob.
			cmd = cmd.Raw("&&").Arg("sh", "-c", `rm -f -- "$1"*`, "sh", stem)
		}
	}
	if len(seen) == 0 {
		return nil
	}
	_, err := c.Run(inFlight(ctx), cmd.String(), nil)
	return err
}

// restartKeepingContainers is a rollback's restart of docker. When the running
// dockerd has live-restore on (live_restore = true) and the daemon.json put
// back does not, the new dockerd would stop the containers the old one left
// running: it starts with live-restore still in daemon.json, then the file is
// put back byte for byte and a reload turns live-restore off, as the file
// means.
func (r *Runner) restartKeepingContainers(ctx context.Context, host string) error {
	c := r.clients[host]
	cur, mode, exists, err := c.ReadFile(ctx, steps.DaemonJSON)
	if err != nil {
		return err
	}
	keep := steps.KeepLiveRestore(r.facts[host], cur)
	if keep == nil {
		return restartDocker(ctx, c)
	}
	dir := path.Dir(steps.DaemonJSON)
	putBack := func() error { return c.WriteFileAtomic(ctx, steps.DaemonJSON, cur, mode) }
	if !exists {
		mode = 0o644
		// The file goes again, and its directory if the rollback removed it.
		putBack = func() error {
			return errors.Join(c.Remove(ctx, steps.DaemonJSON), c.Remove(ctx, dir))
		}
		if _, err := c.Run(ctx, sh.New("test", "-d", dir).String(), nil); err == nil {
			putBack = func() error { return c.Remove(ctx, steps.DaemonJSON) }
		} else if err := c.MkdirAll(ctx, dir, 0o755); err != nil {
			return err
		}
	}
	if err := c.WriteFileAtomic(ctx, steps.DaemonJSON, keep, mode); err != nil {
		return err
	}
	err = errors.Join(restartDocker(ctx, c), putBack())
	if err != nil {
		return err
	}
	off := steps.Op{Kind: steps.OpReloadDocker, Cmd: sh.New("systemctl", "reload", "docker").String(), Path: steps.DaemonJSON, Data: steps.LiveRestoreOff}
	why, err := r.reloadDocker(ctx, c, off)
	if why != "" {
		r.logf("%s: live-restore stays on in the running dockerd until it next restarts: %s", host, why)
	}
	return err
}
