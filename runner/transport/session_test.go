package transport

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// closeBuffer records what it is given and whether it was closed.
type closeBuffer struct {
	lockedBuffer
	closed atomic.Bool
}

func (b *closeBuffer) Close() error {
	b.closed.Store(true)
	return nil
}

// Hold returns the first line at once, hands what follows to rest as it
// comes, keeps the command running until release, and closes rest when the
// command's output ends.
func TestHoldFirstLineThenRest(t *testing.T) {
	c := newFixture(t, serverOptions{}).dial(t)
	rest := &closeBuffer{}
	line, release, err := c.Hold(t.Context(), "echo locked; echo facts; printf 'no newline'; exec cat >/dev/null", rest)
	if err != nil || line != "locked" {
		t.Fatalf("Hold = %q, %v", line, err)
	}
	release() // stdin closed: cat ends, and with it the output
	if rest.String() != "facts\nno newline" || !rest.closed.Load() {
		t.Errorf("rest got %q, closed %v", rest.String(), rest.closed.Load())
	}
}

// A command that exits before its first line is an *ExitError with its
// stderr, and rest is closed empty.
func TestHoldExitsBeforeFirstLine(t *testing.T) {
	c := newFixture(t, serverOptions{}).dial(t)
	rest := &closeBuffer{}
	_, _, err := c.Hold(t.Context(), "echo busy >&2; exit 75", rest)
	var exit *ExitError
	if !errors.As(err, &exit) || exit.Code != 75 || !strings.Contains(exit.Stderr, "busy") {
		t.Fatalf("Hold = %v, want exit 75 with stderr", err)
	}
	// The session is released with the error: another Hold can take the slot.
	if line, release, err := c.Hold(t.Context(), "echo again; exec cat", nil); err != nil || line != "again" {
		t.Fatalf("second Hold = %q, %v", line, err)
	} else {
		release()
	}
}

// Pipe is the command's stdin and stdout as one connection.
func TestPipeRoundTrip(t *testing.T) {
	c := newFixture(t, serverOptions{}).dial(t)
	p, err := c.Pipe(t.Context(), "echo started >&2; exec cat")
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if _, err := p.Write([]byte("ping\n")); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, 5)
	if _, err := io.ReadFull(p, got); err != nil || string(got) != "ping\n" {
		t.Fatalf("read %q, %v", got, err)
	}
	// stderr is its own stream on the channel, copied by a goroutine of its
	// own: it may come in a moment after stdout.
	for deadline := time.Now().Add(5 * time.Second); !strings.Contains(p.Stderr(), "started"); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("stderr %q", p.Stderr())
		}
	}
}

// Stream gives the whole output to tee as well as in the Result.
func TestStreamTee(t *testing.T) {
	c := newFixture(t, serverOptions{}).dial(t)
	var tee bytes.Buffer
	res, err := c.Stream(t.Context(), "echo one; echo two", nil, &tee)
	if err != nil || string(res.Stdout) != "one\ntwo\n" || tee.String() != "one\ntwo\n" {
		t.Fatalf("Stream: stdout %q, tee %q, err %v", res.Stdout, tee.String(), err)
	}
}
