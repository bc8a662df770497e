package runner

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestPollRetriesUntilSuccess(t *testing.T) {
	n := 0
	err := poll(context.Background(), time.Second, func() error {
		if n++; n < 3 {
			return errors.New("not yet")
		}
		return nil
	})
	if err != nil || n != 3 {
		t.Fatalf("poll: err %v after %d tries, want success on the 3rd", err, n)
	}
}

func TestPollGivesUpWithLastError(t *testing.T) {
	start := time.Now()
	err := poll(context.Background(), 100*time.Millisecond, func() error { return errors.New("down") })
	if err == nil || err.Error() != "down" || time.Since(start) > time.Second {
		t.Fatalf("poll: %v after %s", err, time.Since(start))
	}
}

func TestPollStopsOnCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := poll(ctx, time.Minute, func() error { return errors.New("down") }); !errors.Is(err, context.Canceled) {
		t.Fatalf("poll after cancel: %v", err)
	}
}
