package runner

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/mvorch/mvorch/inventory"
	"github.com/mvorch/mvorch/steps"
)

// Facts returns the facts gathered by the last Gather.
func (r *Runner) Facts() map[string]*steps.Facts { return r.facts }

// Gather reads every host's facts (one shell script, with dockerd's API read
// beside it), then asks the registry which images it already serves. After
// Lock, the script is the one Lock ran once it held the lock.
func (r *Runner) Gather(ctx context.Context) error {
	facts := map[string]*steps.Facts{}
	var mu sync.Mutex
	err := r.forEachHost(ctx, "facts", r.hostNames(), func(ctx context.Context, h *inventory.Host) error {
		f, err := r.hostFacts(ctx, h)
		if err != nil {
			return err
		}
		mu.Lock()
		facts[h.Name] = f
		mu.Unlock()
		return nil
	})
	if err != nil {
		return err
	}
	r.facts = facts
	r.probeRegistry(ctx)
	return nil
}

// hostFacts reads one host's facts. Docker's API is read as soon as the
// script has said whether docker is installed and running, while the script
// goes on; the script runs again if a file changed under it.
func (r *Runner) hostFacts(ctx context.Context, h *inventory.Host) (*steps.Facts, error) {
	c := r.clients[h.Name]
	script := steps.FactsScript(r.inv, h)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	out := r.takeLocked(h.Name)
	if out == nil {
		out = newFactsOutput()
		go func() {
			_, err := c.Stream(ctx, script, nil, out)
			out.finish(err)
		}()
	}
	var api *steps.DockerAPI
	var apiErr error
	read := make(chan struct{})
	go func() {
		defer close(read)
		if out.dockerReady(ctx) {
			start := time.Now()
			api, apiErr = r.readDocker(ctx, h.Name)
			r.timing(h.Name, "docker's API read", start)
		}
	}()
	data, err := out.wait(ctx)
	if err != nil {
		return nil, fmt.Errorf("gathering facts: %w", err)
	}
	f, err := steps.ParseFacts(h.Name, data)
	for try := 2; errors.Is(err, steps.ErrFactsChanged) && try <= 3; try++ {
		res, runErr := c.Run(ctx, script, nil)
		if runErr != nil {
			return nil, fmt.Errorf("gathering facts: %w", runErr)
		}
		f, err = steps.ParseFacts(h.Name, res.Stdout)
	}
	if err != nil {
		return nil, err
	}
	<-read
	if errors.As(apiErr, new(*dockerSilentError)) {
		api, apiErr = r.dockerAnswer(ctx, h.Name, f, apiErr)
	}
	r.timing(h.Name, "facts read", out.start)
	if apiErr != nil {
		return nil, apiErr
	}
	if api == nil {
		return f, nil
	}
	return f, f.SetDocker(*api)
}

// putLocked keeps the facts output Lock reads for host.
func (r *Runner) putLocked(host string, out *factsOutput) {
	r.lockedMu.Lock()
	defer r.lockedMu.Unlock()
	if r.locked == nil {
		r.locked = map[string]*factsOutput{}
	}
	r.locked[host] = out
}

// takeLocked returns the facts output Lock read for host, once.
func (r *Runner) takeLocked(host string) *factsOutput {
	r.lockedMu.Lock()
	defer r.lockedMu.Unlock()
	out := r.locked[host]
	delete(r.locked, host)
	return out
}

// factsOutput collects the facts script's output as it arrives. known is
// closed when the docker section is complete, done when the output is.
// Inside the lock's session the script's output ends at a line of its own
// (end), since the session goes on holding the lock.
type factsOutput struct {
	mu        sync.Mutex
	buf       bytes.Buffer
	end       []byte
	installed bool
	known     chan struct{}
	done      chan struct{}
	err       error
	start     time.Time
}

func newFactsOutput() *factsOutput {
	return &factsOutput{known: make(chan struct{}), done: make(chan struct{}), start: time.Now()}
}

// Write takes the next piece of output. It never fails: output after the
// end is dropped.
func (o *factsOutput) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed(o.done) {
		return len(p), nil
	}
	from := max(o.buf.Len()-len(o.end)+1, 0) // the end line may straddle writes
	o.buf.Write(p)
	if !o.closed(o.known) {
		if installed, ok := steps.DockerKnown(o.buf.Bytes()); ok {
			o.installed = installed
			close(o.known)
		}
	}
	if o.end != nil {
		if i := bytes.Index(o.buf.Bytes()[from:], o.end); i >= 0 {
			o.buf.Truncate(from + i)
			close(o.done)
		}
	}
	return len(p), nil
}

// Close is the end of the session's output: without the end line, the
// script did not finish.
func (o *factsOutput) Close() error {
	o.finish(errors.New("the lock's session ended before the facts script finished"))
	return nil
}

// finish ends the output, with err if the script failed.
func (o *factsOutput) finish(err error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if !o.closed(o.done) {
		o.err = err
		close(o.done)
	}
}

func (o *factsOutput) closed(ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// dockerReady waits until the output says whether docker's API is to be
// read: true once the docker section is complete and found docker
// installed, false when it did not or the output ended without it.
func (o *factsOutput) dockerReady(ctx context.Context) bool {
	select {
	case <-o.known:
	case <-o.done:
	case <-ctx.Done():
		return false
	}
	// All the output can come in one piece, and then both are closed: which
	// one select saw says nothing, known does.
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.closed(o.known) && o.installed
}

// wait returns the whole output once it is complete.
func (o *factsOutput) wait(ctx context.Context) ([]byte, error) {
	select {
	case <-o.done:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.Bytes(), o.err
}
