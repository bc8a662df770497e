package transport

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mvorch/mvorch/runner/sh"
)

func TestRunOutputAndExitCode(t *testing.T) {
	c := newFixture(t, serverOptions{}).dial(t)
	res, err := c.Run(t.Context(), "printf out; printf err >&2", nil)
	if err != nil {
		t.Fatal(err)
	}
	if string(res.Stdout) != "out" || string(res.Stderr) != "err" || res.ExitCode != 0 || res.Duration <= 0 {
		t.Errorf("Result = %+v", res)
	}
}

func TestRunStdin(t *testing.T) {
	c := newFixture(t, serverOptions{}).dial(t)
	in := []byte("line 1\nline 2\n")
	res, err := c.Run(t.Context(), "cat", in)
	if err != nil || string(res.Stdout) != string(in) {
		t.Errorf("cat: stdout %q, err %v", res.Stdout, err)
	}
	// Without stdin the command reads EOF rather than waiting forever.
	res, err = c.Run(t.Context(), "cat", nil)
	if err != nil || len(res.Stdout) != 0 {
		t.Errorf("cat without stdin: stdout %q, err %v", res.Stdout, err)
	}
}

func TestRunExitError(t *testing.T) {
	c := newFixture(t, serverOptions{}).dial(t)
	cmd := "echo boom >&2; echo second >&2; exit 3"
	res, err := c.Run(t.Context(), cmd, nil)
	var ee *ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("got %v, want *ExitError", err)
	}
	if ee.Host != "h1" || ee.Cmd != cmd || ee.Code != 3 || ee.Stderr != "boom\nsecond\n" || ee.Signal != "" {
		t.Errorf("ExitError = %+v", ee)
	}
	if res.ExitCode != 3 || string(res.Stderr) != "boom\nsecond\n" {
		t.Errorf("Result = %+v", res)
	}
	want := `h1: "echo boom >&2; echo second >&2; exit 3" exited 3: boom; second`
	if err.Error() != want {
		t.Errorf("Error() = %s\nwant      %s", err, want)
	}
}

func TestExitErrorMessageShortensScripts(t *testing.T) {
	e := &ExitError{Host: "h", Cmd: "set -e\nfalse", Code: 1, Stderr: "a\n\nb\nc\nd\n"}
	want := `h: "set -e ..." exited 1: a; b; c; ...`
	if e.Error() != want {
		t.Errorf("Error() = %s, want %s", e, want)
	}
}

func TestRunQuotedArgumentsArriveIntact(t *testing.T) {
	c := newFixture(t, serverOptions{}).dial(t)
	weird := "it's $HOME `id` ; | & \n\t * ~ ! ネット"
	res, err := c.Run(t.Context(), sh.New("printf", "%s", weird).String(), nil)
	if err != nil || string(res.Stdout) != weird {
		t.Errorf("stdout %q, err %v; want %q", res.Stdout, err, weird)
	}
}

func TestRunRefusesNUL(t *testing.T) {
	c := newFixture(t, serverOptions{}).dial(t)
	if _, err := c.Run(t.Context(), "echo a\x00; rm -rf /tmp/x", nil); err == nil || !strings.Contains(err.Error(), "NUL") {
		t.Errorf("got %v, want a NUL error", err)
	}
}

func TestRunContextCancel(t *testing.T) {
	f := newFixture(t, serverOptions{})
	f.cfg.MaxSessions = 2
	c := f.dial(t)
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.Run(ctx, "sleep 10", nil)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v, want context.DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Run returned after %s", d)
	}
	select {
	case sig := <-f.srv.signals:
		if sig != "KILL" {
			t.Errorf("server got signal %q, want KILL", sig)
		}
	case <-time.After(2 * time.Second):
		t.Error("server got no signal")
	}
	// The slots come back: both sessions are usable again.
	for range 2 {
		if _, err := c.Run(t.Context(), "true", nil); err != nil {
			t.Fatal(err)
		}
	}
}

func TestRunManyInParallelIsBounded(t *testing.T) {
	f := newFixture(t, serverOptions{})
	f.cfg.MaxSessions = 4
	c := f.dial(t)
	// The SFTP session is open for the whole test and must count too.
	if _, _, _, err := c.ReadFile(t.Context(), "/nonexistent"); err != nil {
		t.Fatal(err)
	}
	const n = 30
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			res, err := c.Run(t.Context(), fmt.Sprintf("sleep 0.05; echo %d", i), nil)
			if err == nil && string(res.Stdout) != fmt.Sprintf("%d\n", i) {
				err = fmt.Errorf("run %d: stdout %q", i, res.Stdout)
			}
			errs[i] = err
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	max := f.srv.maxActive.Load()
	if max > 4 {
		t.Errorf("server saw %d sessions at once, want at most MaxSessions 4", max)
	}
	if max < 2 {
		t.Errorf("server saw at most %d session at once: commands did not run in parallel", max)
	}
}

func TestRunAfterClose(t *testing.T) {
	c := newFixture(t, serverOptions{}).dial(t)
	c.Close()
	if _, err := c.Run(t.Context(), "true", nil); !errors.Is(err, ErrClosed) {
		t.Errorf("got %v, want ErrClosed", err)
	}
	if err := c.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestStalledHostIsDetectedByKeepAlive(t *testing.T) {
	f := newFixture(t, serverOptions{stall: true})
	f.cfg.KeepAlive = 150 * time.Millisecond
	c := f.dial(t)
	// The deadline only keeps a broken keepalive from hanging the test.
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
	defer cancel()
	start := time.Now()
	_, err := c.Run(ctx, "true", nil)
	d := time.Since(start)
	if !errors.Is(err, ErrConnectionLost) || !strings.Contains(err.Error(), "h1") {
		t.Fatalf("got %v, want ErrConnectionLost naming h1", err)
	}
	// Expected after 4 intervals (a keepalive, then 3 missed); 2 more of slack.
	if d > 6*f.cfg.KeepAlive {
		t.Errorf("detected after %s, want about 4 keepalive intervals", d)
	}
	if _, _, _, err := c.ReadFile(ctx, "/etc/hostname"); !errors.Is(err, ErrConnectionLost) {
		t.Errorf("ReadFile after loss: got %v, want ErrConnectionLost", err)
	}
}

// Answered keepalives keep a connection alive through commands longer than
// the detection window.
func TestKeepAliveAnsweredKeepsConnection(t *testing.T) {
	f := newFixture(t, serverOptions{})
	f.cfg.KeepAlive = 100 * time.Millisecond
	c := f.dial(t)
	if _, err := c.Run(t.Context(), "sleep 0.6", nil); err != nil {
		t.Fatal(err)
	}
}

func TestConnectTimeoutNamesHost(t *testing.T) {
	isolate(t)
	// Accepts TCP but never says a word of SSH.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	held := make(chan net.Conn, 1)
	t.Cleanup(func() {
		ln.Close()
		if c := <-held; c != nil {
			c.Close()
		}
	})
	go func() {
		c, _ := ln.Accept() // nil once ln is closed
		held <- c
	}()
	cfg := Config{
		Name: "silent", Address: "127.0.0.1", Port: ln.Addr().(*net.TCPAddr).Port,
		KnownHostsFile: t.TempDir() + "/known_hosts", ConnectTimeout: 200 * time.Millisecond,
	}
	start := time.Now()
	_, err = Dial(t.Context(), cfg)
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Dial returned after %s", d)
	}
	want := fmt.Sprintf("dialing silent (%s): no answer within 200ms", ln.Addr())
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("got %v, want prefix %q", err, want)
	}
}

func TestMaxSessionsOneIsRefused(t *testing.T) {
	f := newFixture(t, serverOptions{})
	f.cfg.MaxSessions = 1
	if _, err := Dial(t.Context(), f.cfg); err == nil {
		t.Error("Dial with MaxSessions 1 succeeded")
	}
}

// Opening a session waits for the host; a frozen host must not hold a caller
// whose context has ended.
func TestRunContextEndsWhileOpeningSession(t *testing.T) {
	f := newFixture(t, serverOptions{stall: true})
	f.cfg.KeepAlive = time.Minute
	c := f.dial(t)
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := c.Run(ctx, "true", nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("got %v, want context.DeadlineExceeded", err)
	}
	if _, _, _, err := c.ReadFile(ctx, "/etc/hostname"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("ReadFile: got %v, want context.DeadlineExceeded", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("returned after %s", d)
	}
}
