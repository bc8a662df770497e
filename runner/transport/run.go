package transport

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"
)

// Result is what one command produced.
type Result struct {
	Stdout, Stderr []byte
	ExitCode       int
	Duration       time.Duration
}

// ExitError is returned by Run, with the full Result, when the command ran
// and exited non-zero. Callers that expect some codes read Code.
type ExitError struct {
	Host   string // inventory name
	Cmd    string // the shell text that ran
	Code   int    // exit status; 128+N when killed by signal N
	Signal string // the signal that killed it, e.g. "KILL"; "" if it exited
	Stderr string
}

func (e *ExitError) Error() string {
	how := fmt.Sprintf("exited %d", e.Code)
	if e.Signal != "" {
		how = "killed by signal " + e.Signal
	}
	msg := fmt.Sprintf("%s: %q %s", e.Host, firstLine(e.Cmd, 100), how)
	if lines := FirstLines(e.Stderr, 3); lines != "" {
		msg += ": " + lines
	}
	return msg
}

// firstLine shortens a command for a message: scripts can be long.
func firstLine(s string, max int) string {
	line, _, multi := strings.Cut(s, "\n")
	if r := []rune(line); len(r) > max {
		return string(r[:max]) + "..."
	}
	if multi {
		return line + " ..."
	}
	return line
}

// FirstLines keeps the start of a command's stderr, where the cause usually
// is: its first n non-blank lines, joined with "; ".
func FirstLines(s string, n int) string {
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(s), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	if len(lines) > n {
		lines = append(lines[:n], "...")
	}
	return strings.Join(lines, "; ")
}

// Run runs cmd, shell text built with runner/sh, in one session with stdin
// as its standard input (nil: empty). A non-zero exit is an *ExitError along
// with the full Result. When ctx ends, the command is sent SIGKILL (best
// effort: sshd before 7.9 ignores signals) and its session closed.
func (c *Client) Run(ctx context.Context, cmd string, stdin []byte) (Result, error) {
	return c.Stream(ctx, cmd, stdin, nil)
}

// Stream is Run that also copies the command's standard output to tee as it
// arrives (nil: nowhere), for callers that act on the start of a long
// output before the command has ended.
func (c *Client) Stream(ctx context.Context, cmd string, stdin []byte, tee io.Writer) (Result, error) {
	if strings.IndexByte(cmd, 0) >= 0 {
		return Result{}, fmt.Errorf("running %q on %s: command contains a NUL byte", firstLine(cmd, 100), c.cfg.Name)
	}
	var res Result
	var err error
	if c.cfg.OneShell {
		res, err = c.shellRun(ctx, cmd, stdin, tee)
	} else {
		res, err = c.becomeRun(ctx, cmd, stdin, tee)
	}
	var exit *ExitError
	if errors.As(err, &exit) {
		exit.Cmd = cmd // what was asked for, not the sudo wrapping
		err = c.becomeError(err)
	} else if err != nil && !errors.Is(err, ErrBecome) {
		// sudo's refusal to start the host's shell says it all already.
		err = fmt.Errorf("running %q on %s: %w", firstLine(cmd, 100), c.cfg.Name, err)
	}
	return res, err
}

// becomeRun runs cmd on a session of its own, through sudo with become.
func (c *Client) becomeRun(ctx context.Context, cmd string, stdin []byte, tee io.Writer) (Result, error) {
	wrapped, prefix, err := c.become(cmd)
	if err != nil {
		return Result{}, err
	}
	if prefix != nil {
		stdin = append(prefix, stdin...)
	}
	return c.run(ctx, wrapped, stdin, tee)
}

func (c *Client) run(ctx context.Context, cmd string, stdin []byte, tee io.Writer) (Result, error) {
	release, err := c.acquireSession(ctx)
	if err != nil {
		return Result{}, err
	}
	sess, err := openWithContext(ctx, c.conn.NewSession, (*ssh.Session).Close, release)
	if err != nil {
		return Result{}, c.connErr(fmt.Errorf("opening session: %w", err))
	}
	var stdout, stderr bytes.Buffer
	sess.Stdout, sess.Stderr = &stdout, &stderr
	if tee != nil {
		sess.Stdout = io.MultiWriter(&stdout, tee)
	}
	if stdin != nil {
		sess.Stdin = bytes.NewReader(stdin)
	}
	start := time.Now()
	done := make(chan error, 1)
	go func() {
		// The session's slot is freed when the host has closed it, not when
		// we stop waiting: until then it still counts against sshd's limit.
		defer release()
		defer sess.Close()
		done <- sess.Run(cmd)
	}()
	select {
	case err = <-done:
	case <-ctx.Done():
		sess.Signal(ssh.SIGKILL)
		sess.Close()
		return Result{Duration: time.Since(start)}, ctx.Err()
	}
	res := Result{Stdout: stdout.Bytes(), Stderr: stderr.Bytes(), Duration: time.Since(start)}
	return res, c.exitError(cmd, &res, err)
}

// exitError fills res.ExitCode and turns a non-zero exit into an *ExitError.
func (c *Client) exitError(cmd string, res *Result, err error) error {
	var exit *ssh.ExitError
	if !errors.As(err, &exit) {
		return c.connErr(err)
	}
	res.ExitCode = exit.ExitStatus()
	return &ExitError{Host: c.cfg.Name, Cmd: cmd, Code: res.ExitCode, Signal: exit.Signal(), Stderr: string(res.Stderr)}
}

// connErr prefers the reason the connection died, which names the host and
// says why, over the bare EOF the session saw.
func (c *Client) connErr(err error) error {
	if err == nil {
		return nil
	}
	if lost := c.lostErr(); lost != nil {
		return lost
	}
	return err
}

// acquireSession waits for a free session slot: sshd refuses channels beyond
// its MaxSessions, so the bound is kept here rather than hit there.
func (c *Client) acquireSession(ctx context.Context) (release func(), err error) {
	if err := c.lostErr(); err != nil {
		return nil, err
	}
	// Checked first: with a slot free too, select would pick at random.
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	select {
	case c.sessions <- struct{}{}:
		c.opened.Add(1)
		return func() { <-c.sessions }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// openWithContext runs open, which takes no context and waits for the host
// to confirm a channel (forever, if the host froze), and stops waiting when
// ctx ends. A late success is then closed, and release called only when open
// has returned: until then the channel may count against sshd's limit.
// On any error release has been called or will be; on success the caller
// owns both the value and release.
func openWithContext[T any](ctx context.Context, open func() (T, error), close func(T) error, release func()) (T, error) {
	type result struct {
		v   T
		err error
	}
	done := make(chan result, 1)
	go func() {
		v, err := open()
		done <- result{v, err}
	}()
	select {
	case r := <-done:
		if r.err != nil {
			release()
		}
		return r.v, r.err
	case <-ctx.Done():
		go func() {
			if r := <-done; r.err == nil {
				close(r.v)
			}
			release()
		}()
		var zero T
		return zero, ctx.Err()
	}
}
