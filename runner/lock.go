package runner

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/mvorch/mvorch/inventory"
	"github.com/mvorch/mvorch/runner/sh"
	"github.com/mvorch/mvorch/runner/transport"
	"github.com/mvorch/mvorch/steps"
)

const (
	lockFile = steps.JournalDir + "/lock"
	lockInfo = steps.JournalDir + "/lock.info"
	// flock -E: the exit status that means "held by someone else".
	lockBusy = 75
)

// ErrLocked is wrapped when another mvorch is changing a host.
var ErrLocked = errors.New("another mvorch is changing this host")

// Lock takes every host's lock before anything changes. The lock is a flock
// held by a remote process reading mvorch's open session (the host's one
// shell, or a session of its own without it): it is released when mvorch
// ends its connection, also when mvorch is killed, so a lock left behind
// never blocks for good. Once it holds the lock, the facts script runs
// there, and the next Gather uses its output: facts are then read under the
// lock, and without a round trip of their own.
func (r *Runner) Lock(ctx context.Context) error {
	var mu sync.Mutex
	err := r.forEachHost(ctx, "lock", r.hostNames(), func(ctx context.Context, h *inventory.Host) error {
		out := newFactsOutput()
		release, err := r.lockHost(ctx, h, out)
		if err != nil {
			return err
		}
		r.timing(h.Name, "locked", out.start)
		mu.Lock()
		r.unlocks = append(r.unlocks, release)
		mu.Unlock()
		r.putLocked(h.Name, out)
		return nil
	})
	if err != nil {
		r.Unlock()
	}
	return err
}

// Unlock releases every lock Lock took.
func (r *Runner) Unlock() {
	for _, release := range r.unlocks {
		release()
	}
	r.unlocks = nil
}

func (r *Runner) lockHost(ctx context.Context, h *inventory.Host, facts *factsOutput) (func(), error) {
	c := r.clients[h.Name]
	info := fmt.Sprintf("%s, run %s, since %s", r.by, r.runID, time.Now().UTC().Format(time.RFC3339))
	if c.OneShell() {
		return r.lockShell(ctx, c, h, info, facts)
	}
	// The end of the facts output is a line no file can hold by chance.
	end := "@@mvorch:facts-end:" + rand.Text() + "@@"
	facts.end = []byte("\n" + end + "\n")
	// Once locked, the holder prints the facts (in a subshell, with stdin
	// kept for the heartbeat), then waits for mvorch's heartbeat (a byte
	// every few seconds on stdin): at EOF (mvorch ended or was killed) or
	// after 30 s of silence (the link to mvorch is cut) it ends and the host
	// frees the lock.
	hold := sh.New("sh", "-c", `printf '%s\n' "$1" > `+lockInfo+`; echo locked; (eval "$2") </dev/null; printf '\n%s\n' "$3"; while [ -n "$(timeout 30 head -c1)" ]; do :; done`,
		"sh", info, steps.FactsScript(r.inv, h), end)
	cmd := sh.New("mkdir", "-p", steps.JournalDir).Raw("&& exec").Arg("flock", "-n", "-E", fmt.Sprint(lockBusy), lockFile).Raw(hold.String())
	line, release, err := c.Hold(ctx, cmd.String(), facts)
	switch {
	case err == nil && line == "locked":
		return release, nil
	case err == nil:
		release()
		return nil, fmt.Errorf("taking the lock: unexpected answer %q", line)
	}
	return nil, lockError(ctx, c, err)
}

// lockShell takes the lock in the host's one shell, which holds it itself
// (transport.Client.ShellLock: freed with the shell, that is with mvorch's
// connection, or within 30 s of its link being cut), then runs the facts
// script there; its output goes to facts while Lock returns.
func (r *Runner) lockShell(ctx context.Context, c *transport.Client, h *inventory.Host, info string, facts *factsOutput) (func(), error) {
	release, err := c.ShellLock(ctx, lockFile)
	if err != nil {
		return nil, lockError(ctx, c, err)
	}
	script := sh.New("sh", "-c", `printf '%s\n' "$1" > `+lockInfo+`; eval "$2"`, "sh", info, steps.FactsScript(r.inv, h))
	go func() {
		_, err := c.Stream(ctx, script.String(), nil, facts)
		facts.finish(err)
	}()
	return release, nil
}

// lockError says why a host's lock was not taken: who holds it, or what the
// host lacks.
func lockError(ctx context.Context, c *transport.Client, err error) error {
	var exit *transport.ExitError
	switch {
	case errors.As(err, &exit) && exit.Code == lockBusy:
		res, _ := c.Run(ctx, sh.New("cat", lockInfo).String(), nil)
		holder := strings.TrimSpace(string(res.Stdout))
		return fmt.Errorf("%w: held by %s; wait for it to finish (the lock ends with that mvorch's SSH connection, also if it was killed, and within 30 s if its link was cut)", ErrLocked, holder)
	case errors.As(err, &exit) && exit.Code == 127:
		return fmt.Errorf("flock (util-linux) is missing on the host: mvorch needs it to keep two runs from changing a host at once")
	}
	return fmt.Errorf("taking the lock: %w", err)
}
