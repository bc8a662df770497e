package runner

import (
	"context"
	"testing"
	"time"
)

// Changes in flight run under a context that the first interrupt leaves
// alone and the second ends; their values are the command's.
func TestInFlightContext(t *testing.T) {
	type key struct{}
	stop, second := context.WithCancel(context.Background())
	ctx, first := context.WithCancel(context.WithValue(context.Background(), key{}, "v"))
	ctx = WithInFlight(ctx, stop)
	first()
	op := inFlight(ctx)
	if op.Err() != nil || op.Value(key{}) != "v" {
		t.Fatalf("after the first interrupt: err %v, value %v", op.Err(), op.Value(key{}))
	}
	second()
	select {
	case <-op.Done():
	case <-time.After(time.Second):
		t.Fatal("the second interrupt did not end the changes' context")
	}
	if op := inFlight(context.Background()); op.Done() != nil {
		t.Error("without WithInFlight, changes in flight have an end")
	}
}
