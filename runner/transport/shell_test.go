package transport

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mvorch/mvorch/runner/sh"
)

// posixShell makes dialShell's clients keep the shell's POSIX path
// (TestShellPOSIX).
var posixShell bool

// dialShell dials a client whose commands go through the one shell.
func dialShell(t *testing.T) (*fixture, *Client) {
	t.Helper()
	f := newFixture(t, serverOptions{})
	f.cfg.OneShell = true
	c := f.dial(t)
	c.shellPOSIX = posixShell
	return f, c
}

// The shell's two paths: bash (the tests above; the test server's sh execs
// it) and a POSIX sh without it, through the same tests.
func TestShellPOSIX(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Fatal("bash is missing: the tests above ran the POSIX path already")
	}
	_, c := dialShell(t)
	res, err := c.Run(t.Context(), `echo "${BASH_VERSION:+bash}"; ps -o comm= -p $$`, nil)
	if err != nil || !strings.HasPrefix(string(res.Stdout), "bash\nbash\n") {
		t.Fatalf("the default path: %q %v, want bash", res.Stdout, err)
	}
	posixShell = true
	defer func() { posixShell = false }()
	_, c = dialShell(t)
	res, err = c.Run(t.Context(), `echo "${BASH_VERSION:+bash}"; ps -o comm= -p $$`, nil)
	if err != nil || string(res.Stdout) != "\nsh\n" {
		t.Fatalf("the POSIX path: %q %v, want sh", res.Stdout, err)
	}
	for name, test := range map[string]func(*testing.T){
		"ExactBytes": TestShellExactBytes, "LargeOutputs": TestShellLargeOutputs,
		"StderrAndExitCodes": TestShellStderrAndExitCodes, "OneSessionForManyCommands": TestShellOneSessionForManyCommands,
		"TimeoutKillsProcessGroup": TestShellTimeoutKillsProcessGroup, "CancelWhileQueued": TestShellCancelWhileQueued,
		"ReadsStdin": TestShellReadsStdin, "StreamsStdout": TestShellStreamsStdout, "KeepsSessionUmask": TestShellKeepsSessionUmask,
		"Lock": TestShellLock, "LockSilence": TestShellLockSilence, "LockTakenAgain": TestShellLockTakenAgain,
		"CutRequestEnds": TestShellCutRequestEnds,
	} {
		t.Run(name, test)
	}
}

func TestShellExactBytes(t *testing.T) {
	_, c := dialShell(t)
	all := make([]byte, 0, 3*256)
	for i := range 3 * 256 {
		all = append(all, byte(i))
	}
	// Every byte value, NULs and newlines included, on stdin, back on
	// stdout, and (reversed) on stderr; no trailing newline is added or lost.
	res, err := c.Run(t.Context(), "cat >&2", all)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(res.Stderr, all) {
		t.Errorf("stderr: %d bytes, want the %d sent", len(res.Stderr), len(all))
	}
	res, err = c.Run(t.Context(), "cat; printf 'e\\0rr\\n\\n' >&2", all)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(res.Stdout, all) || string(res.Stderr) != "e\x00rr\n\n" {
		t.Errorf("stdout %d bytes (equal %v), stderr %q", len(res.Stdout), bytes.Equal(res.Stdout, all), res.Stderr)
	}
	// The shell's token stays the shell's.
	res, err = c.Run(t.Context(), `printf '%s' "$_mk"`, nil)
	if err != nil || len(res.Stdout) != 0 {
		t.Errorf("the command sees the token: %q %v", res.Stdout, err)
	}
	res, err = c.Run(t.Context(), "printf 'no newline'", nil)
	if err != nil || string(res.Stdout) != "no newline" || len(res.Stderr) != 0 {
		t.Errorf("stdout %q stderr %q err %v", res.Stdout, res.Stderr, err)
	}
}

func TestShellLargeOutputs(t *testing.T) {
	_, c := dialShell(t)
	big := bytes.Repeat([]byte("0123456789abcdef"), 512*1024) // 8 MiB
	res, err := c.Run(t.Context(), "cat; head -c 3000000 /dev/zero >&2", big)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(res.Stdout, big) || len(res.Stderr) != 3000000 {
		t.Errorf("stdout %d bytes (equal %v), stderr %d bytes", len(res.Stdout), bytes.Equal(res.Stdout, big), len(res.Stderr))
	}
	// The next command's frame starts where this one's ended.
	res, err = c.Run(t.Context(), "echo next", nil)
	if err != nil || string(res.Stdout) != "next\n" {
		t.Errorf("next: %q %v", res.Stdout, err)
	}
}

func TestShellStderrAndExitCodes(t *testing.T) {
	_, c := dialShell(t)
	res, err := c.Run(t.Context(), "printf out; printf err >&2", nil)
	if err != nil || string(res.Stdout) != "out" || string(res.Stderr) != "err" || res.ExitCode != 0 {
		t.Errorf("Result = %+v, err %v", res, err)
	}
	cmd := "echo boom >&2; echo second >&2; exit 3"
	res, err = c.Run(t.Context(), cmd, nil)
	var ee *ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("got %v, want *ExitError", err)
	}
	if ee.Host != "h1" || ee.Cmd != cmd || ee.Code != 3 || ee.Stderr != "boom\nsecond\n" || res.ExitCode != 3 {
		t.Errorf("ExitError = %+v, Result = %+v", ee, res)
	}
	// The same message as a command on a session of its own.
	want := `h1: "echo boom >&2; echo second >&2; exit 3" exited 3: boom; second`
	if err.Error() != want {
		t.Errorf("Error() = %s\nwant      %s", err, want)
	}
	for _, code := range []int{1, 2, 255} {
		if _, err := c.Run(t.Context(), fmt.Sprintf("exit %d", code), nil); !errors.As(err, &ee) || ee.Code != code {
			t.Errorf("exit %d: %v", code, err)
		}
	}
	if _, err := c.Run(t.Context(), "nosuchcommand-mvorch", nil); !errors.As(err, &ee) || ee.Code != 127 {
		t.Errorf("missing command: %v", err)
	}
	// A command that exits the shell it runs in leaves the one shell alone.
	if _, err := c.Run(t.Context(), "exit 0", nil); err != nil {
		t.Error(err)
	}
	weird := "it's $HOME `id` ; | & \n\t * ~ ! ネット"
	res, err = c.Run(t.Context(), sh.New("printf", "%s", weird).String(), nil)
	if err != nil || string(res.Stdout) != weird {
		t.Errorf("stdout %q, err %v; want %q", res.Stdout, err, weird)
	}
}

func TestShellOneSessionForManyCommands(t *testing.T) {
	f, c := dialShell(t)
	for i := range 20 {
		if _, err := c.Run(t.Context(), "true", []byte{byte(i)}); err != nil {
			t.Fatal(err)
		}
	}
	p := filepath.Join(f.dir, "written")
	if err := c.WriteFileAtomic(t.Context(), p, []byte("data\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	data, mode, ok, err := c.ReadFile(t.Context(), p)
	if err != nil || !ok || string(data) != "data\n" || mode != 0o640 {
		t.Errorf("ReadFile: %q %o %v %v", data, mode, ok, err)
	}
	if n := c.Sessions(); n != 1 {
		t.Errorf("%d sessions for 20 commands and 2 file operations, want 1", n)
	}
}

func TestShellTimeoutKillsProcessGroup(t *testing.T) {
	f, c := dialShell(t)
	mark := filepath.Join(f.dir, "mark")
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	// A child of the command, in the background: the kill reaches it too.
	_, err := c.Run(ctx, sh.New("sh", "-c", "sleep 2; touch "+mark).Raw("& sleep 30").String(), nil)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v, want context.DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Run returned after %s", d)
	}
	// The shell is not wedged: the next command runs, soon.
	start = time.Now()
	res, err := c.Run(t.Context(), "echo after", nil)
	if err != nil || string(res.Stdout) != "after\n" {
		t.Fatalf("after the timeout: %q %v", res.Stdout, err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("the next command waited %s", d)
	}
	time.Sleep(2500 * time.Millisecond)
	if _, err := os.Stat(mark); err == nil {
		t.Error("the cancelled command's child ran on: its process group was not killed")
	}
	// The kill went through the shell: no session of its own (the next
	// command may have run on one, not waiting for the kill's answer).
	if n := c.Sessions() - c.Spilled(); n != 1 {
		t.Errorf("%d sessions (%d of them for a busy shell), want 1", c.Sessions(), c.Spilled())
	}
}

func TestShellCancelWhileQueued(t *testing.T) {
	_, c := dialShell(t)
	c.spillBelow = 0 // the second command waits its turn (TestShellSpills)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		_, err := c.Run(ctx, "sleep 30", nil)
		done <- err
	}()
	time.Sleep(300 * time.Millisecond)
	// Queued behind the sleep; its own context ends first.
	qctx, qcancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer qcancel()
	if _, err := c.Run(qctx, "echo queued", nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("queued: got %v, want context.DeadlineExceeded", err)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("got %v, want context.Canceled", err)
	}
	res, err := c.Run(t.Context(), "echo ok", nil)
	if err != nil || string(res.Stdout) != "ok\n" {
		t.Errorf("after cancel: %q %v", res.Stdout, err)
	}
}

func TestShellReadsStdin(t *testing.T) {
	_, c := dialShell(t)
	res, err := c.Run(t.Context(), "read a; read b; echo \"$b $a\"; cat", []byte("1\n2\nrest"))
	if err != nil || string(res.Stdout) != "2 1\nrest" {
		t.Errorf("stdout %q, err %v", res.Stdout, err)
	}
	// Without stdin a reader sees EOF at once: it neither waits nor eats
	// the next command.
	res, err = c.Run(t.Context(), "cat; echo done", nil)
	if err != nil || string(res.Stdout) != "done\n" {
		t.Errorf("stdout %q, err %v", res.Stdout, err)
	}
	res, err = c.Run(t.Context(), "echo next", nil)
	if err != nil || string(res.Stdout) != "next\n" {
		t.Errorf("stdout %q, err %v", res.Stdout, err)
	}
}

func TestShellLostConnection(t *testing.T) {
	_, c := dialShell(t)
	if _, err := c.Run(t.Context(), "true", nil); err != nil {
		t.Fatal(err)
	}
	c.Close()
	_, err := c.Run(t.Context(), "true", nil)
	if !errors.Is(err, ErrClosed) || !strings.Contains(err.Error(), "h1") {
		t.Errorf("got %v, want ErrClosed naming the host", err)
	}
}

// firstLineWriter reports its first write and fails every later one.
type firstLineWriter struct {
	first chan []byte
	n     int
}

func (w *firstLineWriter) Write(p []byte) (int, error) {
	w.n++
	if w.n == 1 {
		w.first <- append([]byte{}, p...)
		return len(p), nil
	}
	return 0, errors.New("reader gone")
}

func TestShellStreamsStdout(t *testing.T) {
	_, c := dialShell(t)
	w := &firstLineWriter{first: make(chan []byte, 1)}
	done := make(chan Result, 1)
	go func() {
		res, err := c.Stream(t.Context(), "echo early; sleep 1; echo late; head -c 200000 /dev/zero", nil, w)
		if err != nil {
			t.Error(err)
		}
		done <- res
	}()
	select {
	case b := <-w.first:
		if string(b) != "early\n" {
			t.Errorf("first chunk %q", b)
		}
	case <-done:
		t.Fatal("the output came only when the command ended")
	case <-time.After(900 * time.Millisecond):
		t.Fatal("no output while the command ran")
	}
	// A tee that fails stops the copy, not the command or the shell.
	res := <-done
	if !strings.HasPrefix(string(res.Stdout), "early\nlate\n") || len(res.Stdout) != 11+200000 {
		t.Errorf("stdout %d bytes", len(res.Stdout))
	}
	if r, err := c.Run(t.Context(), "echo next", nil); err != nil || string(r.Stdout) != "next\n" {
		t.Errorf("next: %q %v", r.Stdout, err)
	}
}

func TestShellKeepsSessionUmask(t *testing.T) {
	_, c := dialShell(t)
	plain := newFixture(t, serverOptions{}).dial(t)
	want, err := plain.Run(t.Context(), "umask", nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.Run(t.Context(), "umask", nil)
	if err != nil || string(got.Stdout) != string(want.Stdout) {
		t.Errorf("umask through the shell %q (%v), on a session of its own %q", got.Stdout, err, want.Stdout)
	}
}

// oneByte reads its data a byte at a time, as a slow link would hand it.
type oneByte struct{ data []byte }

func (r *oneByte) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	p[0], r.data = r.data[0], r.data[1:]
	return 1, nil
}

// Output that holds the marker's start, or all of it but its last byte,
// comes back whole, and a line is never held back for the marker.
func TestShellReaderUntil(t *testing.T) {
	marker := []byte("TOKEN R ")
	for _, out := range []string{"", "x", "T", "TOK", "TOKEN R", "TOKEN ", "a\nTOKEN", "TTOKEN", "TOKEN Q TOKEN", "line\n"} {
		for _, r := range []io.Reader{&oneByte{[]byte(out + "TOKEN R 0 0\nnext")}, bytes.NewReader([]byte(out + "TOKEN R 0 0\nnext"))} {
			sr := newShellReader(r)
			var got []byte
			if err := sr.until(marker, func(b []byte) { got = append(got, b...) }); err != nil {
				t.Fatalf("%q: %v", out, err)
			}
			l, err := sr.line()
			if string(got) != out || l != "0 0\n" || err != nil {
				t.Errorf("%q: got %q, then %q %v", out, got, l, err)
			}
		}
	}
	// A line is handed on as soon as it is read.
	sr := newShellReader(&oneByte{[]byte("b 1\n")})
	var got []byte
	err := sr.until(marker, func(b []byte) { got = append(got, b...) })
	if string(got) != "b 1\n" || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("got %q before the end, %v", got, err)
	}
}

// A command that finds the shell busy does not wait for it where sessions
// are cheap: it runs at once on a session of its own. Where they are not, it
// waits its turn.
func TestShellSpills(t *testing.T) {
	for _, cheap := range []bool{true, false} {
		_, c := dialShell(t)
		if !cheap {
			c.spillBelow = 0
		}
		if _, err := c.Run(t.Context(), "true", nil); err != nil {
			t.Fatal(err)
		}
		busy := make(chan error, 1)
		w := &firstLineWriter{first: make(chan []byte, 1)}
		go func() {
			_, err := c.Stream(t.Context(), "echo started; sleep 1", nil, w)
			busy <- err
		}()
		<-w.first
		start := time.Now()
		res, err := c.Run(t.Context(), "echo second", nil)
		took := time.Since(start)
		if err != nil || string(res.Stdout) != "second\n" {
			t.Fatalf("cheap %v: %q %v", cheap, res.Stdout, err)
		}
		if err := <-busy; err != nil {
			t.Fatal(err)
		}
		if cheap && (took > 700*time.Millisecond || c.Sessions() != 2 || c.Spilled() != 1) {
			t.Errorf("cheap sessions: the second command took %s, %d sessions, %d spilled; want at once, 2, 1", took, c.Sessions(), c.Spilled())
		}
		if !cheap && (took < 700*time.Millisecond || c.Sessions() != 1 || c.Spilled() != 0) {
			t.Errorf("dear sessions: the second command took %s, %d sessions, %d spilled; want it to wait, 1, 0", took, c.Sessions(), c.Spilled())
		}
	}
}

// Sessions are cheap when the shell started fast, unless sudo reads a
// password: that goes to sudo once per host.
func TestShellCheapSessions(t *testing.T) {
	for _, tc := range []struct {
		cost   time.Duration
		become string
		pw     bool
		want   bool
	}{
		{10 * time.Millisecond, "", false, true},
		{0, "", false, false}, // no shell yet: its cost is unknown
		{900 * time.Millisecond, "", false, false},
		{10 * time.Millisecond, "sudo", false, true},
		{10 * time.Millisecond, "sudo", true, false},
	} {
		c := &Client{cfg: Config{Become: tc.become}, shellCost: tc.cost, spillBelow: spillBelow}
		if tc.pw {
			c.cfg.BecomePassword = &BecomePassword{}
		}
		if got := c.cheapSessions(); got != tc.want {
			t.Errorf("%+v: cheap %v", tc, got)
		}
	}
}

// BenchmarkCommand: one short command (echo) on a connected host, through
// the one shell (its bash path and its POSIX path) and on a session of its
// own, against the in-process test server, whose exec runs /bin/sh -c as
// sshd runs a login shell (with no login work: a real sshd's session costs
// more). go test -run '^$' -bench Command ./runner/transport
func BenchmarkCommand(b *testing.B) {
	for _, mode := range []string{"one-shell", "one-shell-posix", "session"} {
		b.Run(mode, func(b *testing.B) {
			f := newFixture(b, serverOptions{})
			f.cfg.OneShell = mode != "session"
			c := f.dial(b)
			c.shellPOSIX = mode == "one-shell-posix"
			if _, err := c.Run(b.Context(), "true", nil); err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				if res, err := c.Run(b.Context(), "echo hi", nil); err != nil || string(res.Stdout) != "hi\n" {
					b.Fatalf("%q %v", res.Stdout, err)
				}
			}
		})
	}
}
