// Package transport runs commands and moves files on one host over one SSH
// connection: every exec session and the SFTP session share the TCP
// connection that Dial opens, so a command costs a channel, not a handshake.
package transport

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
)

// Config says how to reach one host. Zero fields take the defaults noted.
type Config struct {
	Name              string        // inventory host name, for messages (default: Address)
	Address           string        // host name or IP address
	Port              int           // default 22
	User              string        // default "root"
	IdentityFiles     []string      // tried in order after ssh-agent keys; default ~/.ssh/id_{ed25519,ecdsa,rsa} if they exist
	IdentitiesOnly    bool          // ssh_config's IdentitiesOnly: agent keys only for IdentityFiles holding the same key
	KnownHostsFile    string        // default ~/.ssh/known_hosts; host keys are always verified
	AcceptNewHostKeys bool          // an unknown host's key is appended to KnownHostsFile; a changed key is always refused
	ConnectTimeout    time.Duration // TCP connect plus SSH handshake; default 10s
	KeepAlive         time.Duration // interval of keepalive@openssh.com requests; 3 unanswered close the connection; default 5s
	MaxSessions       int           // concurrent sessions on the connection, SFTP's included; default 8 (sshd allows 10)

	// Become = "sudo" runs every command and file operation as root through
	// sudo; BecomePassword is nil for NOPASSWD sudo.
	Become         string
	BecomePassword *BecomePassword

	// OneShell runs every command (Run, Stream), file operation and the
	// lock (ShellLock) through one long-lived shell per connection (see
	// shell.go), so that the host's login shell and sudo start once, not
	// once per command.
	OneShell bool

	// Passphrases, when set, is shared by the Dials of one command so that
	// an encrypted identity file is asked for once, not once per host.
	// Nil: each Dial asks on its own terminal, if there is one.
	Passphrases *Passphrases
}

const (
	defaultPort           = 22
	defaultUser           = "root"
	defaultConnectTimeout = 10 * time.Second
	defaultKeepAlive      = 5 * time.Second
	defaultMaxSessions    = 8
)

// withDefaults fills zero fields and expands "~/" in paths.
func (cfg Config) withDefaults() (Config, error) {
	if cfg.Address == "" {
		return cfg, errors.New("no address")
	}
	if cfg.MaxSessions < 0 || cfg.MaxSessions == 1 {
		// The SFTP session stays open for the life of the connection, so
		// one session is never enough for a command and a file.
		return cfg, fmt.Errorf("max sessions %d: must be at least 2", cfg.MaxSessions)
	}
	cfg.Name = cmp.Or(cfg.Name, cfg.Address)
	cfg.Port = cmp.Or(cfg.Port, defaultPort)
	cfg.User = cmp.Or(cfg.User, defaultUser)
	cfg.ConnectTimeout = cmp.Or(cfg.ConnectTimeout, defaultConnectTimeout)
	cfg.KeepAlive = cmp.Or(cfg.KeepAlive, defaultKeepAlive)
	cfg.MaxSessions = cmp.Or(cfg.MaxSessions, defaultMaxSessions)
	var err error
	cfg.KnownHostsFile, err = expandHome(cmp.Or(cfg.KnownHostsFile, "~/.ssh/known_hosts"))
	if err != nil {
		return cfg, err
	}
	if cfg.Passphrases == nil {
		cfg.Passphrases = TerminalPassphrases()
	}
	return cfg, nil
}

// expandHome expands a leading "~/" the way ssh does for its own files.
func expandHome(p string) (string, error) {
	if p != "~" && !strings.HasPrefix(p, "~/") {
		return p, nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("expanding %s: %w", p, err)
	}
	return filepath.Join(home, p[1:]), nil
}

// Client is one SSH connection to one host. It is safe for concurrent use.
type Client struct {
	cfg      Config
	addr     string // host:port as dialled
	conn     *ssh.Client
	sessions chan struct{} // semaphore: a token per open session
	opened   atomic.Int64  // sessions opened so far

	// shellTurn is held by the command the shell runs (a one-token
	// semaphore); shell is the running shell, nil before the first
	// command or after it broke; lockPath is the lock it holds (ShellLock).
	shellTurn chan struct{}
	shellMu   sync.Mutex
	shell     *remoteShell
	lockPath  string
	// shellCost is how long the last shell took to start (cheapSessions);
	// spilled counts the commands that did not wait for a busy shell.
	shellCost  time.Duration
	spilled    atomic.Int64
	spillBelow time.Duration // spillBelow; tests change it
	// The shell's watch for a cut link and mvorch's heartbeat (shell.go's
	// defaults; tests shorten them).
	shellCheck  string
	shellChecks int
	shellBeat   time.Duration
	// shellPOSIX keeps the shell's POSIX path under bash too (tests).
	shellPOSIX bool

	sftpMu sync.Mutex
	sftp   *sftp.Client
	// files is how this connection reads and writes files, chosen on
	// first use (see fileOps); nil until then.
	files fileOps

	lostMu sync.Mutex
	lost   error // why the connection died, if it did before Close

	addedHostKey string

	stopKeepAlive context.CancelFunc
	closeOnce     sync.Once
	closeErr      error
}

// ErrConnectionLost is wrapped by the errors of commands and file operations
// that failed because the connection died under them (missed keepalives, or
// the host closed it), so that callers can tell this from a failed command.
var ErrConnectionLost = errors.New("connection lost")

// errTimedOut marks a handshake cut off by the connect timeout.
var errTimedOut = errors.New("connect timeout")

// ErrClosed is wrapped by the errors of calls made after Close.
var ErrClosed = errors.New("client closed")

// Dial connects, verifies the host key, authenticates and starts keepalives.
func Dial(ctx context.Context, cfg Config) (*Client, error) {
	d := net.Dialer{Timeout: cfg.ConnectTimeout}
	return dialWith(ctx, cfg, d.DialContext)
}

// DialVia connects to cfg's host through an open connection to a jump host,
// as ssh -J does: the jump host opens the TCP connection, and the SSH
// session runs end to end inside it, with the target's host key checked
// under the target's own name and address.
func DialVia(ctx context.Context, cfg Config, via *Client) (*Client, error) {
	return dialWith(ctx, cfg, func(ctx context.Context, _, addr string) (net.Conn, error) {
		return via.DialTCP(ctx, addr)
	})
}

type tcpDialer func(ctx context.Context, network, addr string) (net.Conn, error)

func dialWith(ctx context.Context, cfg Config, dialTCP tcpDialer) (*Client, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("dialing %s: %w", cmp.Or(cfg.Name, cfg.Address), err)
	}
	addr := net.JoinHostPort(cfg.Address, strconv.Itoa(cfg.Port))
	conn, hk, err := dial(ctx, cfg, addr, dialTCP)
	if err != nil {
		return nil, fmt.Errorf("dialing %s (%s): %w", cfg.Name, addr, err)
	}
	c := &Client{
		cfg:          cfg,
		addr:         addr,
		conn:         conn,
		sessions:     make(chan struct{}, cfg.MaxSessions),
		shellTurn:    make(chan struct{}, 1),
		shellCheck:   shellCheckEvery,
		shellChecks:  shellSilenceChecks,
		shellBeat:    shellHeartbeat,
		spillBelow:   spillBelow,
		addedHostKey: hk.added,
	}
	kctx, cancel := context.WithCancel(context.Background())
	c.stopKeepAlive = cancel
	go c.keepAlive(kctx)
	go c.watchConn()
	return c, nil
}

// AddedHostKey returns the fingerprint of the host key this Dial appended to
// known_hosts (AcceptNewHostKeys), or "" if it added none: worth telling the
// user, as ssh does.
func (c *Client) AddedHostKey() string { return c.addedHostKey }

// dial opens the TCP connection and runs the SSH handshake, both bounded by
// ConnectTimeout and ctx.
func dial(ctx context.Context, cfg Config, addr string, dialTCP tcpDialer) (*ssh.Client, *hostKeyChecker, error) {
	hk, err := newHostKeyChecker(cfg, addr)
	if err != nil {
		return nil, nil, err
	}
	auth, err := newAuthenticator(cfg)
	if err != nil {
		return nil, nil, err
	}
	defer auth.close()

	tctx, cancel := context.WithTimeout(ctx, cfg.ConnectTimeout)
	tcp, err := dialTCP(tctx, "tcp", addr)
	cancel()
	if err != nil {
		return nil, nil, connectError(ctx, cfg, err)
	}
	// The handshake is bounded by a timer that closes the connection (a
	// channel through a jump host has no deadlines); a passphrase prompt
	// pauses it.
	var fired atomic.Bool
	timer := time.AfterFunc(cfg.ConnectTimeout, func() { fired.Store(true); tcp.Close() })
	defer timer.Stop()
	auth.pause = func() func() {
		timer.Stop()
		return func() { timer.Reset(cfg.ConnectTimeout) }
	}
	clientCfg := &ssh.ClientConfig{
		User:              cfg.User,
		Auth:              []ssh.AuthMethod{ssh.PublicKeysCallback(auth.signersCallback)},
		HostKeyCallback:   hk.check,
		HostKeyAlgorithms: hk.algorithms(),
		Timeout:           cfg.ConnectTimeout,
	}
	sc, chans, reqs, err := handshake(ctx, tcp, addr, clientCfg)
	if err == nil && fired.Load() {
		sc.Close()
		err = errTimedOut
	}
	if err != nil {
		if fired.Load() && hk.err == nil {
			return nil, nil, fmt.Errorf("no answer within %s: %w", cfg.ConnectTimeout, errTimedOut)
		}
		return nil, nil, classifyHandshakeError(ctx, cfg, hk, auth, err)
	}
	return ssh.NewClient(sc, chans, reqs), hk, nil
}

// handshake runs ssh.NewClientConn under a deadline, and closes the socket
// if ctx ends first: the library itself takes no context.
func handshake(ctx context.Context, tcp net.Conn, addr string, cfg *ssh.ClientConfig) (ssh.Conn, <-chan ssh.NewChannel, <-chan *ssh.Request, error) {
	stop := context.AfterFunc(ctx, func() { tcp.Close() })
	defer stop()
	sc, chans, reqs, err := ssh.NewClientConn(tcp, addr, cfg)
	if err != nil {
		tcp.Close()
		return nil, nil, nil, err
	}
	return sc, chans, reqs, nil
}

// connectError says a timeout is a timeout, and prefers the context's own
// error when the caller gave up (Ctrl-C), so that it is not reported as a
// network fault.
func connectError(ctx context.Context, cfg Config, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return fmt.Errorf("no answer within %s: %w", cfg.ConnectTimeout, err)
	}
	return err
}

// classifyHandshakeError turns a failed handshake into the error that says
// what to do: the host key checker's and the authenticator's typed errors
// carry more than the library's wrapped text.
func classifyHandshakeError(ctx context.Context, cfg Config, hk *hostKeyChecker, auth *authenticator, err error) error {
	switch {
	case hk.err != nil:
		return hk.err
	case hk.noCommonAlgorithm(err):
		return hk.noCommonAlgorithmError(err)
	case hk.verified:
		// The host key passed, so the handshake was in its last phase,
		// user authentication.
		return auth.error(cfg, err)
	}
	return connectError(ctx, cfg, err)
}

// watchConn records why the connection ended, if it was not Close.
func (c *Client) watchConn() {
	err := c.conn.Wait()
	c.markLost(fmt.Errorf("%w: %v", ErrConnectionLost, err))
}

// markLost records the first reason the connection died and closes it, so
// that everything waiting on it fails now rather than hanging.
func (c *Client) markLost(err error) {
	c.lostMu.Lock()
	if c.lost == nil {
		c.lost = fmt.Errorf("%s (%s): %w", c.cfg.Name, c.addr, err)
	}
	c.lostMu.Unlock()
	c.conn.Close()
}

// lostErr returns why the connection died, or nil while it is alive.
func (c *Client) lostErr() error {
	c.lostMu.Lock()
	defer c.lostMu.Unlock()
	return c.lost
}

// Close closes the SFTP session and the connection. Calling it again is a no-op.
func (c *Client) Close() error {
	c.closeOnce.Do(func() {
		c.lostMu.Lock()
		if c.lost == nil {
			c.lost = fmt.Errorf("%s (%s): %w", c.cfg.Name, c.addr, ErrClosed)
		}
		c.lostMu.Unlock()
		c.stopKeepAlive()
		// The connection first: whatever holds sftpMu may be waiting for a
		// session that only a dead connection releases.
		if err := c.conn.Close(); !errors.Is(err, net.ErrClosed) {
			c.closeErr = err // a connection already lost is closed, not an error
		}
		c.closeShell()
		c.sftpMu.Lock()
		if c.sftp != nil {
			c.sftp.Close()
		}
		c.sftpMu.Unlock()
	})
	return c.closeErr
}

// Sessions is the number of SSH sessions opened on this connection so far
// (each costs the host an sshd fork and a run of the user's login shell).
func (c *Client) Sessions() int { return int(c.opened.Load()) }

// Err says why the connection died, or nil while it is up.
func (c *Client) Err() error { return c.lostErr() }
