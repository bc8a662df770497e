package runner

import (
	"context"
	"strings"
	"testing"
)

// TestFactsOutputInLockSession feeds factsOutput what the lock's session
// prints after "locked", a few bytes at a time: docker's section becomes
// known as soon as it is complete, the output ends at the end line (cut
// off), and what the session prints after it is not part of the facts.
func TestFactsOutputInLockSession(t *testing.T) {
	end := "@@mvorch:facts-end:0123@@"
	facts := "@@mvorch:docker@@\ninstalled\n@@mvorch:hostname@@\nh1\n@@mvorch:end@@\nfile without newline"
	stream := facts + "\n" + end + "\n" + "more\n"
	for _, chunk := range []int{1, 3, 7, len(stream)} {
		o := newFactsOutput()
		o.end = []byte("\n" + end + "\n")
		knownAt := -1
		for i := 0; i < len(stream); i += chunk {
			if n, err := o.Write([]byte(stream[i:min(i+chunk, len(stream))])); err != nil || n != min(chunk, len(stream)-i) {
				t.Fatalf("chunk %d: Write = %d, %v", chunk, n, err)
			}
			if knownAt < 0 && o.closed(o.known) {
				knownAt = i + chunk
			}
		}
		o.Close() // the session's end after the end line changes nothing
		if want := strings.Index(stream, "h1"); knownAt < want || knownAt > want+chunk+len("h1") {
			t.Errorf("chunk %d: docker known after %d bytes, want about %d", chunk, knownAt, want)
		}
		if !o.installed {
			t.Errorf("chunk %d: installed not seen", chunk)
		}
		got, err := o.wait(context.Background())
		if err != nil || string(got) != facts {
			t.Errorf("chunk %d: wait = %q, %v; want %q", chunk, got, err, facts)
		}
	}
}

// TestFactsOutputSessionEndsEarly: a lock session that ends before the end
// line (the holder was killed, the host went away) is an error, never a
// short output taken for the facts.
func TestFactsOutputSessionEndsEarly(t *testing.T) {
	o := newFactsOutput()
	o.end = []byte("\n@@mvorch:facts-end:x@@\n")
	o.Write([]byte("@@mvorch:docker@@\n"))
	o.Close()
	if _, err := o.wait(context.Background()); err == nil || !strings.Contains(err.Error(), "ended before the facts script finished") {
		t.Fatalf("wait = %v, want the session's early end", err)
	}
	if o.closed(o.known) {
		t.Error("docker section reported known from a cut-off output")
	}
}

// TestFactsOutputWaitHonoursContext: a wait for output that never comes
// ends with the context.
func TestFactsOutputWaitHonoursContext(t *testing.T) {
	o := newFactsOutput()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := o.wait(ctx); err != context.Canceled {
		t.Fatalf("wait = %v, want context.Canceled", err)
	}
}

// Output that comes in one piece closes known and done at once: docker's
// API must still be read. (A select that took done first skipped the read,
// and the plan then said docker was not running; make bench found it at 10
// hosts under load.)
func TestFactsOutputDockerReadyWhenAllComesAtOnce(t *testing.T) {
	stream := "@@mvorch:docker@@\ninstalled\n@@mvorch:hostname@@\nh1\n@@mvorch:end@@\n\n@@mvorch:facts-end:1@@\n"
	for i := 0; i < 200; i++ {
		o := newFactsOutput()
		o.end = []byte("\n@@mvorch:facts-end:1@@\n")
		o.Write([]byte(stream))
		if !o.dockerReady(context.Background()) {
			t.Fatalf("try %d: docker not read though the output says it is installed", i)
		}
	}
	o := newFactsOutput()
	o.Write([]byte("@@mvorch:docker@@\n@@mvorch:hostname@@\n"))
	o.finish(nil)
	if o.dockerReady(context.Background()) {
		t.Error("docker read though the output says it is not installed")
	}
	o = newFactsOutput()
	o.Close()
	if o.dockerReady(context.Background()) {
		t.Error("docker read though the output ended before its section")
	}
}
