package transport

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mvorch/mvorch/runner/sh"
)

// The one shell: with Config.OneShell, every Run, every file operation and
// the host's lock go through one long-lived shell per connection, started
// (through sudo, with become) on the first command, so that the host's login
// shell start-up and sudo are paid once per host, not once per command.
//
// The shell reads request lines on its standard input, always, also while a
// command runs. The first line, sent once the shell has said it is ready
// (not before: a sudo that refused its password would read it as its next
// try), is a token, fresh for each shell, that frames every answer; then:
//
//	"C <script length> <stdin length>\n" <script> <stdin>: run a command
//	"K <pgid>\n": kill a running command's process group (SIGKILL)
//	"L <path>\n": take an flock on path (creating its directory), held by
//	               the shell itself until "U\n" or until the shell ends
//	".\n": a heartbeat, mvorch is still there
//
// A command answers "P <pgid>\n" once it has started, then its stdout as it
// comes, straight from the command (no copy, and so no frame, in between),
// then "<token> R <status>\n". A lock answers "L <status>\n": 0 taken, 75
// held by someone else. Each answer's stderr goes, as it comes, to the
// session's stderr (its own stream on the SSH channel), ended by
// "<token> E\n", also when empty, and written before the answer's last line;
// what the login shell or sudo printed there before the shell was ready
// ends at such a line too. The token holds no newline, so a line of output
// is never held back waiting to see whether the token starts there. It is
// not in the shell's command line (it came on stdin) nor in the
// environment, and the commands never see it: an output holding it by
// chance is as likely as guessing 130 random bits. A process a command
// leaves behind writing to the command's stdout or stderr would write into
// a later answer (on a session of its own, the session would never end):
// mvorch's commands leave none, and a daemon they start closes both.
//
// The shell ends at EOF (mvorch closed the connection, or died), or after
// about shellCheckEvery * shellSilenceChecks without a request line (the
// link to mvorch was cut): the lock it holds is freed then, as the lock's
// session of its own was freed before the one shell. A request cut short by
// a cut link ends it the same way. Each command runs in a process group of
// its own, in the background of the reading loop. The lock's file
// descriptor (9) is closed for everything the shell starts: only the shell
// holds the lock. The commands get the umask and environment the session
// has.
//
// Under bash 4.1 or later (the shell execs bash when the host has it:
// shellStart; read -N came with 4.1) the shell starts no program of its own
// but mktemp for a command's stdin, and no program for a command but the
// command's own: the builtin read takes the lines (read -t is the watch for
// a cut link) and the script (in the C locale, a byte per character; it
// reads a pipe a byte at a time, so nothing spills from one request into
// the next), and job control gives the command's subshell its own process
// group. A POSIX sh (or an older bash) keeps its files in a private temp
// directory (mktemp -d makes it 0700), watches for a silent link with a
// process of its own (a file touched at each request line, looked at every
// shellCheckEvery), reads the script with head -c and starts the command
// with setsid sh. Both read stdin, when there is some, with GNU head -c,
// which reads no more than it is asked for.
const shellLoop = `exec 5>&2
_mt= _mw=
trap '[ -z "$_mw" ] || kill $_mw 2>/dev/null; [ -z "$_mt" ] || rm -rf "$_mt"' EXIT; trap 'exit 1' HUP PIPE TERM
case $BASH_VERSION in ""|[123].*|4.0.*) _MVPOSIX=1 ;; esac
if [ -z "$_MVPOSIX" ]; then
  _mto=%[3]s
  _mlc=${LC_ALL-}; _mlcset=${LC_ALL+1}; LC_ALL=C
  _mline() { IFS= read -r -t "$_mto" _ml; }
  _mget() { _ms=; [ "$1" = 0 ] || IFS= read -r -t "$_mto" -N "$1" _ms; }
  _min() { timeout "$_mto" head -c "$1"; }
  _mjob() { set -m
    (if [ -n "$_mlcset" ]; then LC_ALL=$_mlc; else unset LC_ALL; fi
    read -r _mp _ </proc/self/stat; echo "P $_mp"; set --; unset _mk; eval "$_ms") <"$_mi" 2>&5 &
    wait $!; }
else
  _mt=$(mktemp -d) || exit 1
  (n=0; while kill -0 $$; do
    if [ -e "$_mt/hb" ]; then rm -f "$_mt/hb"; n=0; else n=$((n+1)); fi
    [ $n -lt %[2]d ] || { kill -TERM $$; sleep 2; kill -KILL $$; rm -rf "$_mt"; exit; }
    sleep %[1]s
  done) </dev/null >/dev/null 2>&1 &
  _mw=$!
  _mline() { IFS= read -r _ml && : > "$_mt/hb"; }
  _mget() { if [ "$1" = 0 ]; then : > "$_mt/s"; else head -c "$1" > "$_mt/s"; fi; }
  _min() { head -c "$1"; }
  _mjob() { setsid sh -c 'echo "P $$"; . "$0/s"' "$_mt" <"$_mi" 2>&5; }
fi
echo "ready %[4]s"
_mline && _mk=$_ml || exit 1
printf '%%s E\n' "$_mk" >&5
exec 2>/dev/null
while _mline; do
  case $_ml in
  .) ;;
  "C "*) set -- $_ml
    _mget "$2" && _mi=/dev/null && { [ "$3" = 0 ] || { { [ -n "$_mt" ] || _mt=$(mktemp -d); } && _mi=$_mt/i && _min "$3" > "$_mi"; }; } || exit 1
    (_mjob; _mrc=$?; printf '%%s E\n' "$_mk" >&5; printf '%%s R %%d\n' "$_mk" "$_mrc") 9>&- &
    ;;
  "K "*) kill -KILL "-${_ml#K }" ;;
  "L "*) _mp=${_ml#L }; _mrc=1
    if { { [ -d "${_mp%%/*}" ] || mkdir -p -- "${_mp%%/*}"; } && command exec 9>> "$_mp"; } 2>&5; then flock -n -E 75 9 2>&5; _mrc=$?; fi
    [ $_mrc = 0 ] || exec 9>&-
    printf '%%s E\n' "$_mk" >&5; echo "L $_mrc" ;;
  U) exec 9>&- ;;
  *) exit 1 ;;
  esac
done`

// shellStart is the shell's command line: the loop in bash when the host
// has it (whatever the login shell, or sudo's sh, is), else in that shell.
// posix keeps the POSIX path under bash too (tests).
func shellStart(loop string, posix bool) string {
	if posix {
		return "_MVPOSIX=1; " + loop
	}
	return "_mL=" + sh.Quote(loop) + `; [ -n "$BASH_VERSION" ] || ! command -v bash >/dev/null 2>&1 || exec bash -c "$_mL"; eval "$_mL"`
}

// The shell's watch for a cut link: no request line for shellCheckEvery *
// shellSilenceChecks ends it (30 s under bash, read -t; 25-30 s in a POSIX
// sh, whose watch looks every shellCheckEvery), as the lock's own session's
// 30 s timeout did; mvorch writes a heartbeat every shellHeartbeat.
const (
	shellCheckEvery    = "5"
	shellSilenceChecks = 6
	shellHeartbeat     = 5 * time.Second
)

// maxNoise is how many lines a login script may print on stdout before the
// shell is ready.
const maxNoise = 1000

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
	out  *shellReader
	// tok frames command answers (shellLoop).
	tok string
	// cost is how long the shell took to start.
	cost time.Duration
	// started: stderr has dropped what came before the shell was ready.
	started bool
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
// Commands take their turn: the shell runs one at a time. A command that
// finds the shell busy on a host where a session is cheap (spill) runs on a
// session of its own instead, at once.
func (c *Client) shellRun(ctx context.Context, cmd string, stdin []byte, tee io.Writer) (Result, error) {
	rs, err := c.shellTurnFor(ctx, true)
	if errors.Is(err, errSpill) {
		c.spilled.Add(1)
		return c.becomeRun(ctx, cmd, stdin, tee)
	}
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

// errSpill is shellTurnFor's answer to a caller that may spill: the shell
// is busy, and a session of its own costs less than waiting would.
var errSpill = errors.New("the shell is busy")

// spillBelow is the start-up time of the shell (a session, the login shell,
// sudo) below which a command that finds the shell busy runs on a session of
// its own rather than wait: on such a host a session costs a few
// milliseconds, and the command it would wait for (the facts script, a ping
// check that waits out its unanswered pings) often takes a hundred or more.
// It is a quarter of a second, not less: on a busy machine (10 lab hosts on
// 2 cores) a bare host's first session took 30-160 ms, the PAM session and
// sshd's own work included. Where the login shell is slow (pyenv init:
// about a second), commands wait their turn. Under sudo with a password
// commands always wait: the password goes to sudo once per host.
const spillBelow = 250 * time.Millisecond

// shellTurnFor waits for the shell's turn and returns the running shell,
// started if there was none. The caller gives the turn back. With spill,
// a busy shell on a host where sessions are cheap is not waited for: the
// error is errSpill, and the turn not taken.
func (c *Client) shellTurnFor(ctx context.Context, spill bool) (*remoteShell, error) {
	if err := c.lostErr(); err != nil {
		return nil, err
	}
	select {
	case c.shellTurn <- struct{}{}:
	default:
		if spill && c.cheapSessions() {
			return nil, errSpill
		}
		select {
		case c.shellTurn <- struct{}{}:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
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
	c.shell, c.shellCost = rs, rs.cost
	c.shellMu.Unlock()
	go rs.heartbeat(c.shellBeat)
	return rs, nil
}

// startShell starts a shell and waits until it is ready.
func (c *Client) startShell(ctx context.Context) (*remoteShell, error) {
	start := time.Now()
	every, err := strconv.ParseFloat(c.shellCheck, 64)
	if err != nil {
		return nil, fmt.Errorf("the shell's check interval %q: %w", c.shellCheck, err)
	}
	silence := strconv.FormatFloat(every*float64(c.shellChecks), 'f', -1, 64)
	// The ready line ends with a nonce: a login script's greeting without
	// a newline of its own comes before it on the same line.
	nonce := rand.Text()
	s, free, err := c.startSession(ctx, shellStart(fmt.Sprintf(shellLoop, c.shellCheck, c.shellChecks, silence, nonce), c.shellPOSIX))
	if err != nil {
		return nil, fmt.Errorf("starting the shell: %w", err)
	}
	rs := &remoteShell{s: s, free: free, out: newShellReader(s.out), tok: rand.Text(), stop: make(chan struct{})}
	fail := func(err error) (*remoteShell, error) {
		rs.closeOnce()
		return nil, err
	}
	ready := make(chan string, 1)
	go func() {
		// Lines a login script printed (a .bashrc that echoes a greeting)
		// come first: skipped, up to a bound.
		var l string
		for range maxNoise {
			if l, _ = rs.out.line(); strings.HasSuffix(l, "ready "+nonce+"\n") {
				l = "ready\n"
				break
			}
			if l == "" {
				break
			}
		}
		ready <- l
	}()
	// sudo reads a refused password's retries from the same stdin, which
	// stays open: its complaint on stderr is the answer then.
	poll := time.NewTicker(50 * time.Millisecond)
	defer poll.Stop()
	timeout := time.After(shellReady)
	for {
		select {
		case l := <-ready:
			if l == "ready\n" {
				rs.cost = time.Since(start)
				// Only now: a sudo that refused its password would read
				// the token as its next try.
				if err := rs.send([]byte(rs.tok + "\n")); err != nil {
					return fail(c.connErr(err))
				}
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
	rs, err := c.shellTurnFor(ctx, false)
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
	if tag != "L" || len(f) != 1 {
		return fmt.Errorf("the shell answered %s %v to the lock", tag, f)
	}
	stderr, err := rs.stderr()
	if err != nil {
		return err
	}
	if f[0] != 0 {
		return &ExitError{Cmd: "flock -n " + path, Code: f[0], Stderr: string(stderr)}
	}
	return nil
}

// stderr is the next answer's stderr, cut from the session's; the first
// call drops first what the login shell and sudo printed there before the
// shell was ready.
func (rs *remoteShell) stderr() ([]byte, error) {
	marker := []byte(rs.tok + " E\n")
	if !rs.started {
		if _, err := rs.s.stderr.cut(marker, killGrace); err != nil {
			return nil, err
		}
		rs.started = true
	}
	return rs.s.stderr.cut(marker, killGrace)
}

// exchange sends one command and reads its answer, copying stdout to tee
// as it comes (nil: nowhere; tee's errors only stop the copy). pids
// receives the command's process group as soon as it has started. An
// *ExitError (Host and Cmd unset) is a command that ran and exited
// non-zero; any other error leaves the shell unusable.
func (rs *remoteShell) exchange(cmd string, stdin []byte, tee io.Writer, pids chan<- int) (Result, error) {
	req := make([]byte, 0, len(cmd)+len(stdin)+32)
	req = fmt.Appendf(req, "C %d %d\n", len(cmd), len(stdin))
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
	err = rs.out.until([]byte(rs.tok+" R "), func(chunk []byte) {
		res.Stdout = append(res.Stdout, chunk...)
		if tee != nil {
			if _, err := tee.Write(chunk); err != nil {
				tee = nil
			}
		}
	})
	if err != nil {
		return Result{}, err
	}
	l, err := rs.out.line()
	if err != nil {
		return Result{}, err
	}
	code, err := strconv.Atoi(strings.TrimSuffix(l, "\n"))
	if err != nil || code < 0 {
		return Result{}, fmt.Errorf("the shell answered %q at the end of a command", l)
	}
	if res.Stderr, err = rs.stderr(); err != nil {
		return Result{}, err
	}
	if res.ExitCode = code; code != 0 {
		return res, &ExitError{Code: code, Stderr: string(res.Stderr)}
	}
	return res, nil
}

// frame reads one header line: a tag and non-negative numbers.
func (rs *remoteShell) frame() (string, []int, error) {
	l, err := rs.out.line()
	if err != nil {
		return "", nil, err
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

// shellReader reads the shell's answers: lines, and output up to a marker.
type shellReader struct {
	r   io.Reader
	buf []byte // read from r, not yet taken
	tmp []byte
}

func newShellReader(r io.Reader) *shellReader {
	return &shellReader{r: r, tmp: make([]byte, 64<<10)}
}

// fill reads what r has next.
func (sr *shellReader) fill() error {
	n, err := sr.r.Read(sr.tmp)
	sr.buf = append(sr.buf, sr.tmp[:n]...)
	if n > 0 {
		return nil
	}
	if err == nil || err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return fmt.Errorf("reading from the shell: %w", err)
}

// take returns the first n bytes of buf, taking them.
func (sr *shellReader) take(n int) []byte {
	b := sr.buf[:n:n]
	sr.buf = sr.buf[n:]
	if len(sr.buf) == 0 {
		sr.buf = nil // the next fill starts a fresh array: b stays whole
	}
	return b
}

// heldBack is the length of the longest end of b that starts marker.
func heldBack(b, marker []byte) int {
	for k := min(len(b), len(marker)-1); k > 0; k-- {
		if bytes.HasSuffix(b, marker[:k]) {
			return k
		}
	}
	return 0
}

// maxLine bounds a header line: more is not the shell speaking.
const maxLine = 4096

// line reads one line, its newline included.
func (sr *shellReader) line() (string, error) {
	for from := 0; ; {
		if i := bytes.IndexByte(sr.buf[from:], '\n'); i >= 0 {
			return string(sr.take(from + i + 1)), nil
		}
		if len(sr.buf) > maxLine {
			return "", fmt.Errorf("the shell answered a line of over %d bytes, starting %q", maxLine, sr.buf[:80])
		}
		from = len(sr.buf)
		if err := sr.fill(); err != nil {
			return "", err
		}
	}
}

// until hands emit everything before the next marker, as it comes, and takes
// the marker. emit must not keep the slice.
func (sr *shellReader) until(marker []byte, emit func([]byte)) error {
	for from := 0; ; {
		if i := bytes.Index(sr.buf[from:], marker); i >= 0 {
			if i += from; i > 0 {
				emit(sr.take(i))
			}
			sr.take(len(marker))
			return nil
		}
		// All but a tail that may be the marker's start is output: none
		// after a newline, which the marker does not hold.
		if n := len(sr.buf) - heldBack(sr.buf, marker); n > 0 {
			emit(sr.take(n))
		}
		from = 0
		if err := sr.fill(); err != nil {
			return err
		}
	}
}

// cheapSessions says whether a session of its own costs this host little:
// its shell started within spillBelow, and sudo, if any, reads no password.
func (c *Client) cheapSessions() bool {
	if c.cfg.Become != "" && c.cfg.BecomePassword != nil {
		return false
	}
	c.shellMu.Lock()
	defer c.shellMu.Unlock()
	return c.shellCost > 0 && c.shellCost < c.spillBelow
}

// Spilled is how many commands ran on a session of their own because the
// shell was busy (shellRun).
func (c *Client) Spilled() int { return int(c.spilled.Load()) }

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
