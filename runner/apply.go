package runner

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/mvorch/mvorch/inventory"
	"github.com/mvorch/mvorch/runner/sh"
	"github.com/mvorch/mvorch/runner/transport"
	"github.com/mvorch/mvorch/steps"
)

// ApplyReport is what a run did.
type ApplyReport struct {
	Added, Changed, Removed, Failed int
	Applied                         []*steps.Change
	Elapsed                         time.Duration
	// StoppedAt names the step where the run stopped, if it did.
	StoppedAt string
	// NotDone counts the planned changes not made when the run stopped.
	NotDone int
}

// ErrInterrupted is wrapped by the errors of a run stopped by a signal after
// the changes in flight were finished and recorded.
var ErrInterrupted = errors.New("interrupted")

// ErrConflicts is returned when a plan replaces things mvorch did not make
// and --replace was not given.
var ErrConflicts = errors.New("the plan replaces things mvorch did not make")

// Apply makes exactly the plan's changes: step by step, hosts in parallel
// within a step, every host finishing a step before the next starts. On a
// failure the other hosts finish the step and the run stops.
func (r *Runner) Apply(ctx context.Context, plan *steps.Plan) (*ApplyReport, error) {
	start := time.Now()
	rep := &ApplyReport{}
	if c := plan.Conflicts(); len(c) > 0 && !r.opts.Replace {
		var lines []string
		for _, ch := range c {
			lines = append(lines, fmt.Sprintf("  %s: %s %s: %s", ch.Host, ch.Action.Symbol(), ch.Target, ch.Conflict))
		}
		return rep, fmt.Errorf("%w:\n%s\nrun again with --replace to replace them", ErrConflicts, strings.Join(lines, "\n"))
	}
	if r.opts.Live {
		r.live = newLiveView(r.hostNames())
	}
	journals := map[string]*journal{}
	for name, c := range r.clients {
		journals[name] = &journal{host: name, client: c}
	}
	defer r.flushJournals(journals)
	seq := 0
	var mu sync.Mutex
	// With KeepGoing, a host that failed sits out the remaining steps while
	// the others carry on; the errors are reported together at the end.
	failedHosts := map[string]bool{}
	var kept []error
	for _, step := range steps.All {
		byHost := map[string][]*steps.Change{}
		var hosts []string
		for _, ch := range plan.Changes {
			if ch.Step != step.Name() || failedHosts[ch.Host] {
				continue
			}
			if byHost[ch.Host] == nil {
				hosts = append(hosts, ch.Host)
			}
			byHost[ch.Host] = append(byHost[ch.Host], ch)
		}
		if len(hosts) == 0 {
			continue
		}
		hosts = r.inventoryOrder(hosts)
		// Hosts are started under a context that a first interrupt does not
		// cancel: a change begun is finished and recorded; no new one starts.
		// A second interrupt cuts the waits of the changes in flight.
		err := r.forEachHost(inFlight(ctx), step.Name(), hosts, func(opCtx context.Context, h *inventory.Host) error {
			for _, ch := range byHost[h.Name] {
				if ctx.Err() != nil {
					return fmt.Errorf("%w before %s %s", ErrInterrupted, ch.Action.Symbol(), ch.Target)
				}
				mu.Lock()
				seq++
				rec := steps.Record{Run: r.runID, Seq: seq, Step: ch.Step, Action: ch.Action, Target: ch.Target,
					Writes: ch.Writes(), Registry: ch.Registry, Undo: ch.Undo, By: r.by}
				mu.Unlock()
				t0 := time.Now()
				r.changeStarted(ch)
				err := r.applyChange(opCtx, journals[h.Name], rec, ch, rep, &mu)
				r.progress(ch, err, time.Since(t0))
				if err != nil {
					mu.Lock()
					rep.Failed++
					mu.Unlock()
					return fmt.Errorf("%s %s: %w", ch.Action.Symbol(), ch.Target, err)
				}
				mu.Lock()
				rep.Applied = append(rep.Applied, ch)
				switch ch.Action {
				case steps.ActionAdd:
					rep.Added++
				case steps.ActionChange:
					rep.Changed++
				case steps.ActionRemove:
					rep.Removed++
				case steps.ActionReplace:
					rep.Added++
					rep.Removed++
				}
				mu.Unlock()
			}
			return nil
		})
		switch {
		case err == nil && ctx.Err() != nil:
			err = fmt.Errorf("%w after step %s", ErrInterrupted, step.Name())
		case err != nil && ctx.Err() != nil && !errors.Is(err, ErrInterrupted):
			// A change cut short by a second interrupt (its wait ended).
			err = fmt.Errorf("%w: %w", ErrInterrupted, err)
		}
		if err != nil && r.opts.KeepGoing && ctx.Err() == nil {
			var he *steps.HostError
			for _, e := range unjoin(err) {
				if errors.As(e, &he) {
					failedHosts[he.Host] = true
				}
			}
			kept = append(kept, err)
			if rep.StoppedAt == "" {
				rep.StoppedAt = step.Name()
			}
			continue
		}
		if err != nil {
			rep.StoppedAt = step.Name()
			rep.NotDone = len(plan.Changes) - len(rep.Applied) - rep.Failed
			rep.Elapsed = time.Since(start)
			return rep, err
		}
	}
	rep.Elapsed = time.Since(start)
	if len(kept) > 0 {
		rep.NotDone = len(plan.Changes) - len(rep.Applied) - rep.Failed
		return rep, errors.Join(kept...)
	}
	return rep, nil
}

// unjoin lists the errors an errors.Join made, or err itself.
func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

func (r *Runner) inventoryOrder(hosts []string) []string {
	set := map[string]bool{}
	for _, h := range hosts {
		set[h] = true
	}
	var out []string
	for _, h := range r.inv.Hosts {
		if set[h.Name] {
			out = append(out, h.Name)
		}
	}
	return out
}

// applyChange journals the change, then runs its operations.
func (r *Runner) applyChange(ctx context.Context, j *journal, rec steps.Record, ch *steps.Change, rep *ApplyReport, mu *sync.Mutex) error {
	if err := j.begin(ctx, rec); err != nil {
		return fmt.Errorf("writing the journal: %w", err)
	}
	appliedSoFar := func() []*steps.Change {
		mu.Lock()
		defer mu.Unlock()
		return append([]*steps.Change(nil), rep.Applied...)
	}
	restart := func() error { return r.restartDocker(ctx, ch.Host, appliedSoFar()) }
	for i, op := range ch.Do {
		var err error
		switch {
		case op.Kind == steps.OpRestartDocker:
			err = restart()
		case op.Kind == steps.OpReloadDocker && i+1 < len(ch.Do) && ch.Do[i+1].Kind == steps.OpRestartDocker:
			// A reload ahead of a restart (live-restore): when it does not
			// take, the restart goes ahead anyway, and says so.
			var why string
			if why, err = r.reloadDocker(ctx, r.clients[ch.Host], op); why != "" {
				msg := "the reload did not take (" + why + "), so the restart that follows interrupts the running containers"
				r.logf("%s: %s", ch.Host, msg)
				r.note(ch, mu, msg)
			}
		case op.Kind == steps.OpReloadDocker:
			var why string
			if why, err = r.reloadOrRestart(ctx, ch.Host, op, restart); why != "" {
				r.note(ch, mu, "the reload did not take ("+why+"), so docker was restarted instead")
			}
		default:
			err = r.runOp(ctx, r.clients[ch.Host], op)
		}
		if re := (*refusedError)(nil); errors.As(err, &re) {
			return r.refused(ch.Host, appliedSoFar(), err)
		}
		if err != nil {
			return err
		}
	}
	j.done(rec)
	return nil
}

// note adds a warning to a change as it is applied (run --output json
// carries it; the progress log says it too).
func (r *Runner) note(ch *steps.Change, mu *sync.Mutex, warning string) {
	mu.Lock()
	ch.Warnings = append(ch.Warnings, warning)
	mu.Unlock()
}

// runOp performs one operation on a host.
func (r *Runner) runOp(ctx context.Context, c *transport.Client, op steps.Op) error {
	if r.opts.Verbose >= 2 {
		r.logf("%s: %s", c.Name(), describeOp(op))
	}
	switch op.Kind {
	case steps.OpExec:
		_, err := c.Run(ctx, op.Cmd, nil)
		return err
	case steps.OpWrite:
		defer r.logTransfer(c)
		if err := c.MkdirAll(ctx, path.Dir(op.Path), 0o755); err != nil {
			return err
		}
		return c.WriteFileAtomic(ctx, op.Path, op.Data, fs.FileMode(op.Mode))
	case steps.OpRemove:
		defer r.logTransfer(c)
		return c.Remove(ctx, op.Path)
	case steps.OpWaitRegistry:
		return waitRegistry(ctx, c, op.Addr, 60*time.Second)
	case steps.OpRestartDocker:
		return restartDocker(ctx, c)
	case steps.OpReloadDocker:
		_, err := r.reloadOrRestart(ctx, c.Name(), op, func() error { return restartDocker(ctx, c) })
		return err
	}
	return fmt.Errorf("unknown operation %q", op.Kind)
}

// restartCmd reloads systemd and restarts docker. reset-failed first clears
// docker.service's start limit (StartLimitBurst=3 in 60 s in docker's and
// Debian's units): without it a run, a rollback and a run within a minute
// have systemd refuse the third start ("start of the service was attempted
// too often") and leave docker down; a restore after a failed start needs it
// too, since systemd's own Restart= attempts count against the same limit.
var restartCmd = sh.Join(sh.New("systemctl", "daemon-reload"),
	sh.New("systemctl", "reset-failed", "docker"), sh.New("systemctl", "restart", "docker"))

// restartDocker reloads systemd, restarts docker and waits until it answers.
// The restart command itself is not cut short by ctx (a systemctl killed
// half way may leave docker half started); the wait is.
func restartDocker(ctx context.Context, c *transport.Client) error {
	cmd := restartCmd
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), restoreTimeout)
	defer cancel()
	if _, err := c.Run(rctx, cmd.String(), nil); err != nil {
		return err
	}
	return waitDocker(ctx, c, 90*time.Second)
}

func waitDocker(ctx context.Context, c *transport.Client, timeout time.Duration) error {
	ping := sh.New("docker", "version", "--format", "{{.Server.Version}}").String()
	err := poll(ctx, timeout, func() error {
		_, err := c.Run(ctx, ping, nil)
		return err
	})
	if err != nil {
		return fmt.Errorf("docker did not answer within %s: %w", timeout, err)
	}
	return nil
}

// poll calls try until it succeeds, the timeout passes or ctx ends, with a
// short backoff (20 ms doubling to 500 ms) instead of fixed sleeps. It
// returns try's last error.
func poll(ctx context.Context, timeout time.Duration, try func() error) error {
	deadline := time.Now().Add(timeout)
	delay := 20 * time.Millisecond
	for {
		err := try()
		if err == nil || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(delay):
		}
		delay = min(delay*2, 500*time.Millisecond)
	}
}

// restoreTrust undoes the configuration changes this run made on the host,
// newest first.
func (r *Runner) restoreTrust(ctx context.Context, host string, applied []*steps.Change) []error {
	var errs []error
	for i := len(applied) - 1; i >= 0; i-- {
		ch := applied[i]
		if ch.Host != host || ch.Step != (steps.RegistryTrust{}).Name() {
			continue
		}
		for _, op := range ch.Undo {
			errs = append(errs, r.runOp(ctx, r.clients[host], op))
		}
	}
	return errs
}

// refused handles a reload dockerd refused: it runs on as it was, so the
// files go back and nothing is restarted (a restart would not start).
func (r *Runner) refused(host string, applied []*steps.Change, err error) error {
	ctx, cancel := context.WithTimeout(context.Background(), restoreTimeout)
	defer cancel()
	if rerr := errors.Join(r.restoreTrust(ctx, host, applied)...); rerr != nil {
		return fmt.Errorf("%w\nrestoring the previous configuration ALSO failed: %v; check docker on %s now", err, rerr, host)
	}
	return fmt.Errorf("%w\nthe previous configuration is restored; docker kept running on it, without a restart", err)
}

// restartDocker, in a run: if docker does not come back with the new
// configuration, the configuration changes this run made on the host are
// undone and docker restarted on the old one before the error is reported.
func (r *Runner) restartDocker(ctx context.Context, host string, applied []*steps.Change) error {
	c := r.clients[host]
	if r.opts.Verbose >= 2 {
		r.logf("%s: %s", host, describeOp(steps.Op{Kind: steps.OpRestartDocker}))
	}
	err := restartDocker(ctx, c)
	if err == nil {
		return nil
	}
	dockerdSays := dockerLog(c)
	// Put back even when the wait was cut by an interrupt, with a deadline.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), restoreTimeout)
	defer cancel()
	restoreErrs := r.restoreTrust(rctx, host, applied)
	restoreErrs = append(restoreErrs, restartDocker(rctx, c))
	msg := fmt.Sprintf("docker did not come back after the configuration change: %v", err)
	if dockerdSays != "" {
		msg += "\ndockerd says:\n" + dockerdSays
	}
	if rerr := errors.Join(restoreErrs...); rerr != nil {
		return fmt.Errorf("%s\nrestoring the previous configuration ALSO failed: %v; check docker on %s now", msg, rerr, host)
	}
	return fmt.Errorf("%s\nthe previous configuration is restored and docker runs again", msg)
}

// dockerLog returns the last lines dockerd logged.
func dockerLog(c *transport.Client) string {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := c.Run(ctx, sh.New("journalctl", "-u", "docker", "-n", "15", "--no-pager").String(), nil)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(res.Stdout))
}

// describeOp is what -vv prints of an operation: the command, or the file
// and its size (never file contents, which may hold secrets).
func describeOp(op steps.Op) string {
	switch op.Kind {
	case steps.OpExec:
		return "$ " + op.Cmd
	case steps.OpWrite:
		return fmt.Sprintf("write %s (%d bytes, mode %o)", op.Path, len(op.Data), op.Mode)
	case steps.OpRemove:
		return "remove " + op.Path
	case steps.OpWaitRegistry:
		return "wait for the registry at " + op.Addr
	case steps.OpReloadDocker:
		return "$ " + op.Cmd + "  (then check docker's API)"
	case steps.OpRestartDocker:
		return "$ " + restartCmd.String() + "  (reset-failed clears docker.service's start limit)"
	}
	return string(op.Kind)
}
