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
)

// The one shell: with Config.OneShell, every Run, every file operation and
// the host's lock go through one long-lived shell per connection, started
// (through sudo, with become) on the first command, so that the host's login
// shell start-up and sudo are paid once per host, not once per command.
//
// The shell reads request lines on its standard input, always, also while a
// command runs:
//
//	"C <script length> <stdin length> <stream>\n" <script> <stdin>: run a
//	               command (its stdout sent as it comes if stream is 1, else
//	               at its end)
//	"K <pgid>\n": kill a running command's process group (SIGKILL)
//	"L <path>\n": take an flock on path (creating its directory), held by
//	               the shell itself until "U\n" or until the shell ends
//	".\n": a heartbeat, mvorch is still there
//
// A command answers "P <pgid>\n" once it has started, then "O <n>\n" <n
// bytes of stdout>, as stdout comes (so that Stream can act on it before the
// command ends) or at once at its end (Run: fewer processes), then "R <status> <stderr length>\n" <stderr>. A lock answers
// "L <status> <stderr length>\n" <stderr>: 0 taken, 75 held by someone else.
//
// The shell ends at EOF (mvorch closed the connection, or died), or after
// shellSilenceChecks checks shellCheckEvery apart that saw no request line
// (the link to mvorch was cut): the lock it holds is freed then, as the lock's
// session of its own was freed before the one shell. Each command runs in a
// session of its own (setsid), in the background of the reading loop, its
// script (sourced by that session's sh: one process fewer than sh SCRIPT),
// stdin, stdout and stderr in files of a private temp directory (mktemp -d
// makes it 0700). Streamed stdout goes through a relay outside that session,
// so that killing the command's process group never cuts a frame short (dd
// says how many bytes it copied: its last line starts with the number, in
// every locale). A request cut short by a cut link blocks the reading loop:
// the watch kills it then, as it kills a silent one. The lock's file
// descriptor (9) is closed for everything the shell starts: only the shell
// holds the lock. The builtin read takes a pipe a byte at a time, and GNU
// head -c reads no more than it is asked for, so nothing spills from one
// request into the next. The commands get the umask and environment the
// session has.
const shellLoop = `t=$(mktemp -d) || exit 1
(n=0; while kill -0 $$; do
  if [ -e "$t/hb" ]; then rm -f "$t/hb"; n=0; else n=$((n+1)); fi
  [ $n -lt %[2]d ] || { kill -TERM $$; sleep 2; kill -KILL $$; rm -rf "$t"; exit; }
  sleep %[1]s
done) </dev/null >/dev/null 2>&1 &
w=$!
trap 'kill $w 2>/dev/null; rm -rf "$t"' EXIT; trap 'exit 1' HUP PIPE TERM
job() { setsid sh -c 'echo "P $$" >&4; exec 4>&- < "$0/i" 2> "$0/e"; . "$0/s"' "$t"; echo $? > "$t/rc"; }
echo ready
while IFS= read -r l; do
  : > "$t/hb"
  case $l in
  .) ;;
  "C "*) set -- $l
    { [ "$2" = 0 ] || head -c "$2"; } > "$t/s" && { [ "$3" = 0 ] || head -c "$3"; } > "$t/i" || exit 1
    (exec 4>&1
    if [ "$4" = 1 ]; then
      job | while :; do
        dd bs=65536 count=1 > "$t/o" 2> "$t/d"; n=0; while read -r x _; do n=$x; done < "$t/d"; [ "$n" -gt 0 ] || break; echo "O $n"; cat "$t/o"
      done
    else
      job > "$t/o"; n=0; [ ! -s "$t/o" ] || n=$(wc -c < "$t/o"); [ "$n" = 0 ] || { echo "O $n"; cat "$t/o"; }
    fi
    rc=255; read -r rc < "$t/rc"; n=0; [ ! -s "$t/e" ] || n=$(wc -c < "$t/e"); echo "R $rc $n"; [ "$n" = 0 ] || cat "$t/e") 9>&- &
    ;;
  "K "*) kill -KILL "-${l#K }" 2>/dev/null ;;
  "L "*) p=${l#L }
    : > "$t/e"; rc=1
    if { { [ -d "${p%%/*}" ] || mkdir -p -- "${p%%/*}"; } && command exec 9>> "$p"; } 2> "$t/e"; then flock -n -E 75 9 2> "$t/e"; rc=$?; fi
    [ $rc = 0 ] || exec 9>&-
    n=0; [ ! -s "$t/e" ] || n=$(wc -c < "$t/e"); echo "L $rc $n"; [ "$n" = 0 ] || cat "$t/e" ;;
  U) exec 9>&- ;;
  *) exit 1 ;;
  esac
done`

// The shell's watch for a cut link: shellSilenceChecks checks, shellCheckEvery
// apart, that saw no request line end it (25-30 s, as the lock's own
// session's 30 s timeout did); mvorch writes a heartbeat every
// shellHeartbeat.
const (
	shellCheckEvery    = "5"
	shellSilenceChecks = 6
	shellHeartbeat     = 5 * time.Second
)

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
	// wmu keeps each request whole: commands, kills, heartbeats and the
	// lock's requests come from different goroutines.
	wmu  sync.Mutex
	stop chan struct{} // ends the heartbeat
	once sync.Once
}

func (rs *remoteShell) close() {
	close(rs.stop)
	rs.s.sess.Close()
	rs.free()
}

// send writes one request.
func (rs *remoteShell) send(req []byte) error {
	rs.wmu.Lock()
	defer rs.wmu.Unlock()
	if _, err := rs.s.in.Write(req); err != nil {
		return fmt.Errorf("writing to the shell: %w", err)
	}
	return nil
}

// heartbeat tells the shell every interval that mvorch is still there.
func (rs *remoteShell) heartbeat(every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-rs.stop:
			return
		case <-t.C:
			if rs.send([]byte(".\n")) != nil {
				return
			}
		}
	}
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
	rs, err := c.shellTurnFor(ctx)
	if err != nil {
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

// shellTurnFor waits for the shell's turn and returns the running shell,
// started if there was none. The caller gives the turn back.
func (c *Client) shellTurnFor(ctx context.Context) (*remoteShell, error) {
	if err := c.lostErr(); err != nil {
		return nil, err
	}
	select {
	case c.shellTurn <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	rs, err := c.theShell(ctx)
	if err != nil {
		<-c.shellTurn
		return nil, err
	}
	return rs, nil
}

func isExit(err error) bool {
	var exit *ExitError
	return errors.As(err, &exit)
}

// cancelShellCommand kills the process group of a command whose caller gave
// up (through the shell itself, which reads requests while commands run),
// and closes the shell if that does not end it soon.
func (c *Client) cancelShellCommand(rs *remoteShell, pids <-chan int, done <-chan shellResult) {
	grace := time.NewTimer(killGrace)
	defer grace.Stop()
	select {
	case <-done:
		return
	case pid := <-pids:
		if err := rs.send(fmt.Appendf(nil, "K %d\n", pid)); err != nil {
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
// caller holds the turn. A fresh shell takes the lock again if the one before
// it held it (ShellLock).
func (c *Client) theShell(ctx context.Context) (*remoteShell, error) {
	c.shellMu.Lock()
	rs, lock := c.shell, c.lockPath
	c.shellMu.Unlock()
	if rs != nil {
		return rs, nil
	}
	rs, err := c.startShell(ctx)
	if err != nil {
		return nil, err
	}
	if lock != "" {
		if err := rs.lock(lock); err != nil {
			rs.closeOnce()
			return nil, fmt.Errorf("%s: the shell holding the lock ended, and a new one could not take it again: %w", c.cfg.Name, err)
		}
	}
	c.shellMu.Lock()
	c.shell = rs
	c.shellMu.Unlock()
	go rs.heartbeat(c.shellBeat)
	return rs, nil
}

// startShell starts a shell and waits until it is ready.
func (c *Client) startShell(ctx context.Context) (*remoteShell, error) {
	s, free, err := c.startSession(ctx, fmt.Sprintf(shellLoop, c.shellCheck, c.shellChecks))
	if err != nil {
		return nil, fmt.Errorf("starting the shell: %w", err)
	}
	rs := &remoteShell{s: s, free: free, out: bufio.NewReader(s.out), stop: make(chan struct{})}
	ready := make(chan string, 1)
	go func() {
		l, _ := rs.out.ReadString('\n')
		ready <- l
	}()
	fail := func(err error) (*remoteShell, error) {
		rs.closeOnce()
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

// ShellLock takes an flock on path (an absolute path; its directory is
// created if missing) in the host's one shell, which holds it itself: the
// host frees it when release is called, or when the shell ends, that is when
// mvorch closes the connection or dies, or within 30 s of its link being
// cut. If the shell has to be started again (a command that could not be
// killed), the new one takes the lock again or fails. A lock held by someone
// else is an *ExitError with Code 75 (127: the host has no flock).
func (c *Client) ShellLock(ctx context.Context, path string) (release func(), err error) {
	if !strings.HasPrefix(path, "/") || strings.ContainsAny(path, "\n\x00") {
		return nil, fmt.Errorf("lock file %q: must be an absolute path on one line", path)
	}
	rs, err := c.shellTurnFor(ctx)
	if err != nil {
		return nil, err
	}
	defer func() { <-c.shellTurn }()
	if err := rs.lock(path); err != nil {
		var exit *ExitError
		if !errors.As(err, &exit) {
			c.dropShell(rs)
			return nil, c.connErr(err)
		}
		exit.Host = c.cfg.Name
		return nil, err
	}
	c.shellMu.Lock()
	c.lockPath = path
	c.shellMu.Unlock()
	var once sync.Once
	return func() { once.Do(c.shellUnlock) }, nil
}

// shellUnlock releases the lock ShellLock took: the shell closes the lock's
// file at once, whatever command runs.
func (c *Client) shellUnlock() {
	c.shellMu.Lock()
	rs := c.shell
	c.lockPath = ""
	c.shellMu.Unlock()
	if rs != nil {
		// A shell that cannot be written to is gone, and its lock with it.
		_ = rs.send([]byte("U\n"))
	}
}

// lock asks the shell to take the flock on path and reads its answer; the
// caller holds the turn. Not taken: an *ExitError (Host set, Cmd the flock).
func (rs *remoteShell) lock(path string) error {
	if err := rs.send([]byte("L " + path + "\n")); err != nil {
		return err
	}
	tag, f, err := rs.frame()
	if err != nil {
		return err
	}
	if tag != "L" || len(f) != 2 {
		return fmt.Errorf("the shell answered %s %v to the lock", tag, f)
	}
	stderr, err := rs.read(f[1])
	if err != nil {
		return err
	}
	if f[0] != 0 {
		return &ExitError{Cmd: "flock -n " + path, Code: f[0], Stderr: string(stderr)}
	}
	return nil
}

// exchange sends one command and reads its answer, copying stdout to tee
// as it comes (nil: nowhere; tee's errors only stop the copy). pids
// receives the command's process group as soon as it has started. An
// *ExitError (Host and Cmd unset) is a command that ran and exited
// non-zero; any other error leaves the shell unusable.
func (rs *remoteShell) exchange(cmd string, stdin []byte, tee io.Writer, pids chan<- int) (Result, error) {
	req := make([]byte, 0, len(cmd)+len(stdin)+32)
	stream := 0
	if tee != nil {
		stream = 1
	}
	req = fmt.Appendf(req, "C %d %d %d\n", len(cmd), len(stdin), stream)
	req = append(append(req, cmd...), stdin...)
	if err := rs.send(req); err != nil {
		return Result{}, err
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
// so that its start-up (the login shell's, sudo's) overlaps other work
// instead of delaying the first command.
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
