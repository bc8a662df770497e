package transport

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mvorch/mvorch/runner/sh"
)

// The one shell: with Config.OneShell, every Run goes through one
// long-lived shell per connection, started (through sudo, with become) on
// the first command, so that the host's login shell start-up and sudo are
// paid once per host, not once per command. The shell reads framed commands
// on its standard input and answers each with its exit status and its
// stdout and stderr, length-framed, so that bytes come back exactly.
//
// Request:  "<script length> <stdin length>\n" <script> <stdin>
// Answer:   "P <pid>\n" once the command started (its process group id),
//
//	"O <n>\n" <n bytes of stdout>, as many as it takes, as stdout
//	comes (so that Stream can act on it before the command ends),
//	"R <status> <stderr length>\n" <stderr>
//
// GNU head -c reads no more than it is asked for, and read reads a pipe a
// byte at a time, so a command's bytes never spill into the next one; dd
// with count=1 takes what the pipe holds, up to 64 KiB. Each command runs
// in a session of its own (setsid), its stdin and stderr in files of a
// private temp directory: a cancelled command's whole process group is
// killed (from an SSH session of its own), and the shell goes on with the
// next command. The shell ends at EOF, when mvorch closes the connection or
// dies. The commands get the umask and environment the session has (the
// temp directory is private: mktemp -d makes it 0700).
const shellLoop = `t=$(mktemp -d) || exit 1
trap 'rm -rf "$t"' EXIT; trap 'exit 1' HUP PIPE TERM
echo ready
while read -r n m; do
  head -c "$n" > "$t/s" && head -c "$m" > "$t/i" || exit 1
  rm -f "$t/rc"
  setsid sh -c 'echo "P $$"; { sh "$1/s" < "$1/i" 2> "$1/e"; echo $? > "$1/rc"; } | while :; do
    dd bs=65536 count=1 2>/dev/null > "$1/o"; n=$(wc -c < "$1/o"); [ "$n" -gt 0 ] || break; echo "O $n"; cat "$1/o"
  done' sh "$t" &
  wait "$!"; rc=$?
  if [ -s "$t/rc" ]; then rc=$(cat "$t/rc"); fi
  echo "R $rc $(wc -c < "$t/e")"
  cat "$t/e"
done`

// shellReady bounds the wait for the shell's first line (a sudo asking for
// a password again would otherwise wait forever).
const shellReady = 60 * time.Second

// killGrace is how long a cancelled command's answer is waited for after its
// process group was sent SIGKILL; past it the shell is closed, and the next
// command starts a fresh one.
const killGrace = 15 * time.Second

// remoteShell is the running shell.
type remoteShell struct {
	s    *started
	free func()
	out  *bufio.Reader
	once sync.Once
}

func (rs *remoteShell) close() {
	rs.s.sess.Close()
	rs.free()
}

// shellResult is one command's answer.
type shellResult struct {
	res Result
	err error
}

// shellRun runs cmd, already checked, through the connection's shell,
// copying its stdout to tee as it comes (nil: nowhere).
// Commands take their turn: the shell runs one at a time.
func (c *Client) shellRun(ctx context.Context, cmd string, stdin []byte, tee io.Writer) (Result, error) {
	if err := c.lostErr(); err != nil {
		return Result{}, err
	}
	select {
	case c.shellTurn <- struct{}{}:
	case <-ctx.Done():
		return Result{}, ctx.Err()
	}
	rs, err := c.theShell(ctx)
	if err != nil {
		<-c.shellTurn
		return Result{}, err
	}
	start := time.Now()
	pids := make(chan int, 1)
	done := make(chan shellResult, 1)
	go func() {
		// The turn is the shell's until its answer is read in full.
		defer func() { <-c.shellTurn }()
		res, err := rs.exchange(cmd, stdin, tee, pids)
		if err != nil && !isExit(err) {
			c.dropShell(rs)
			err = c.connErr(err)
		}
		res.Duration = time.Since(start)
		done <- shellResult{res, err}
	}()
	select {
	case r := <-done:
		var exit *ExitError
		if errors.As(r.err, &exit) {
			exit.Host, exit.Cmd = c.cfg.Name, cmd
		}
		return r.res, r.err
	case <-ctx.Done():
		go c.cancelShellCommand(rs, pids, done)
		return Result{Duration: time.Since(start)}, ctx.Err()
	}
}

func isExit(err error) bool {
	var exit *ExitError
	return errors.As(err, &exit)
}

// cancelShellCommand kills the process group of a command whose caller gave
// up, and closes the shell if that does not end it soon.
func (c *Client) cancelShellCommand(rs *remoteShell, pids <-chan int, done <-chan shellResult) {
	grace := time.NewTimer(killGrace)
	defer grace.Stop()
	select {
	case <-done:
		return
	case pid := <-pids:
		kctx, cancel := context.WithTimeout(context.Background(), killGrace)
		defer cancel()
		if _, err := c.becomeRun(kctx, sh.New("kill", "-KILL", "-"+strconv.Itoa(pid)).String(), nil, nil); err != nil {
			c.dropShell(rs)
		}
	case <-grace.C:
		c.dropShell(rs)
	}
	select {
	case <-done:
	case <-grace.C:
		c.dropShell(rs)
	}
}

// theShell returns the running shell, starting it if there is none. The
// caller holds the turn.
func (c *Client) theShell(ctx context.Context) (*remoteShell, error) {
	c.shellMu.Lock()
	rs := c.shell
	c.shellMu.Unlock()
	if rs != nil {
		return rs, nil
	}
	s, free, err := c.startSession(ctx, shellLoop)
	if err != nil {
		return nil, fmt.Errorf("starting the shell: %w", err)
	}
	rs = &remoteShell{s: s, free: free, out: bufio.NewReader(s.out)}
	ready := make(chan string, 1)
	go func() {
		l, _ := rs.out.ReadString('\n')
		ready <- l
	}()
	fail := func(err error) (*remoteShell, error) {
		rs.close()
		return nil, err
	}
	// sudo reads a refused password's retries from the same stdin, which
	// stays open: its complaint on stderr is the answer then.
	poll := time.NewTicker(50 * time.Millisecond)
	defer poll.Stop()
	timeout := time.After(shellReady)
	for {
		select {
		case l := <-ready:
			if l == "ready\n" {
				c.shellMu.Lock()
				c.shell = rs
				c.shellMu.Unlock()
				return rs, nil
			}
			if err := c.exitErr(s, "the shell"); err != nil {
				return fail(c.connErr(err))
			}
			return fail(fmt.Errorf("%s: the shell answered %q", c.cfg.Name, l))
		case <-poll.C:
			if c.cfg.Become == "" {
				continue
			}
			err := c.becomeError(&ExitError{Host: c.cfg.Name, Code: 1, Stderr: s.stderr.String()})
			if errors.Is(err, ErrBecome) {
				return fail(err)
			}
		case <-ctx.Done():
			return fail(ctx.Err())
		case <-timeout:
			return fail(fmt.Errorf("%s: the shell did not start within %s", c.cfg.Name, shellReady))
		}
	}
}

// dropShell closes rs and forgets it, so that the next command starts a
// fresh shell.
func (c *Client) dropShell(rs *remoteShell) {
	c.shellMu.Lock()
	if c.shell == rs {
		c.shell = nil
	}
	c.shellMu.Unlock()
	rs.closeOnce()
}

// closeShell closes the shell, if one runs (Close).
func (c *Client) closeShell() {
	c.shellMu.Lock()
	rs := c.shell
	c.shell = nil
	c.shellMu.Unlock()
	if rs != nil {
		rs.closeOnce()
	}
}

func (rs *remoteShell) closeOnce() { rs.once.Do(rs.close) }

// exchange sends one command and reads its answer, copying stdout to tee
// as it comes (nil: nowhere; tee's errors only stop the copy). pids
// receives the command's process group as soon as it has started. An
// *ExitError (Host and Cmd unset) is a command that ran and exited
// non-zero; any other error leaves the shell unusable.
func (rs *remoteShell) exchange(cmd string, stdin []byte, tee io.Writer, pids chan<- int) (Result, error) {
	req := make([]byte, 0, len(cmd)+len(stdin)+32)
	req = fmt.Appendf(req, "%d %d\n", len(cmd), len(stdin))
	req = append(append(req, cmd...), stdin...)
	if _, err := rs.s.in.Write(req); err != nil {
		return Result{}, fmt.Errorf("writing to the shell: %w", err)
	}
	tag, f, err := rs.frame()
	if err != nil {
		return Result{}, err
	}
	if tag != "P" || len(f) != 1 {
		return Result{}, fmt.Errorf("the shell answered %s %v, not the command's pid", tag, f)
	}
	pids <- f[0]
	var res Result
	for {
		tag, f, err := rs.frame()
		switch {
		case err != nil:
			return Result{}, err
		case tag == "O" && len(f) == 1:
			chunk, err := rs.read(f[0])
			if err != nil {
				return Result{}, err
			}
			res.Stdout = append(res.Stdout, chunk...)
			if tee != nil {
				if _, err := tee.Write(chunk); err != nil {
					tee = nil
				}
			}
		case tag == "R" && len(f) == 2:
			if res.Stderr, err = rs.read(f[1]); err != nil {
				return Result{}, err
			}
			if res.ExitCode = f[0]; res.ExitCode != 0 {
				return res, &ExitError{Code: res.ExitCode, Stderr: string(res.Stderr)}
			}
			return res, nil
		default:
			return Result{}, fmt.Errorf("the shell answered %s %v", tag, f)
		}
	}
}

// read reads n bytes of an answer.
func (rs *remoteShell) read(n int) ([]byte, error) {
	b := make([]byte, n)
	if _, err := io.ReadFull(rs.out, b); err != nil {
		return nil, fmt.Errorf("reading from the shell: %w", err)
	}
	return b, nil
}

// frame reads one header line: a tag and non-negative numbers.
func (rs *remoteShell) frame() (string, []int, error) {
	l, err := rs.out.ReadString('\n')
	if err != nil {
		return "", nil, fmt.Errorf("reading from the shell: %w", err)
	}
	fields := strings.Fields(l)
	if len(fields) < 2 {
		return "", nil, fmt.Errorf("the shell answered %q", l)
	}
	nums := make([]int, len(fields)-1)
	for i, f := range fields[1:] {
		v, err := strconv.Atoi(f)
		if err != nil || v < 0 {
			return "", nil, fmt.Errorf("the shell answered %q", l)
		}
		nums[i] = v
	}
	return fields[0], nums, nil
}

// OneShell says whether commands go through one shell (Config.OneShell).
func (c *Client) OneShell() bool { return c.cfg.OneShell }

// WarmShell starts the shell in the background, if commands go through one,
// so that its start-up (the login shell's, sudo's) overlaps other work, such
// as taking the lock, instead of delaying the first command.
func (c *Client) WarmShell(ctx context.Context) {
	if !c.cfg.OneShell {
		return
	}
	go func() {
		select {
		case c.shellTurn <- struct{}{}:
		case <-ctx.Done():
			return
		}
		defer func() { <-c.shellTurn }()
		// An error here is the first command's to report: it tries again.
		_, _ = c.theShell(ctx)
	}()
}
