package runner

import (
	"context"
	"time"
)

// Interrupts (cmd/mvorch): the first cancels the command's context, so no
// new change starts and the changes in flight are finished and recorded;
// the second cancels the in-flight context, so that waits (the registry,
// docker coming back, a pull) stop; the third exits at once.

type inFlightKey struct{}

// WithInFlight returns ctx carrying stop, the context that ends the
// changes in flight (the second interrupt).
func WithInFlight(ctx, stop context.Context) context.Context {
	return context.WithValue(ctx, inFlightKey{}, stop)
}

// inFlight is the context of a change already begun: ctx's values, not
// cancelled with ctx, but with the in-flight context WithInFlight gave
// (without one, never).
func inFlight(ctx context.Context) context.Context {
	stop, ok := ctx.Value(inFlightKey{}).(context.Context)
	if !ok {
		return context.WithoutCancel(ctx)
	}
	return inFlightCtx{Context: context.WithoutCancel(ctx), stop: stop}
}

type inFlightCtx struct {
	context.Context // values
	stop            context.Context
}

func (c inFlightCtx) Deadline() (time.Time, bool) { return c.stop.Deadline() }
func (c inFlightCtx) Done() <-chan struct{}       { return c.stop.Done() }
func (c inFlightCtx) Err() error                  { return c.stop.Err() }

// restoreTimeout bounds putting docker's previous configuration back after
// a restart that failed or whose wait was cut short: it is not interrupted,
// but it does not wait for ever either.
const restoreTimeout = 3 * time.Minute
