package transport

import (
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/pkg/sftp"

	"github.com/mvorch/mvorch/runner/sh"
)

// BecomePassword is a sudo password shared by every connection of one
// command, asked for (or read) once. It is only ever written to sudo's
// standard input: never put on a command line, printed or logged.
type BecomePassword struct {
	once sync.Once
	get  func() ([]byte, error)
	pw   []byte
	err  error
}

// NewBecomePassword returns a password obtained by get on first use.
func NewBecomePassword(get func() ([]byte, error)) *BecomePassword {
	return &BecomePassword{get: get}
}

func (b *BecomePassword) value() ([]byte, error) {
	b.once.Do(func() { b.pw, b.err = b.get() })
	return b.pw, b.err
}

// ErrBecome is wrapped when sudo refuses to run a command.
var ErrBecome = errors.New("sudo refused")

// become wraps cmd to run as root through sudo, and says what sudo must read
// first on its standard input (the password, when there is one).
func (c *Client) become(cmd string) (string, []byte, error) {
	if c.cfg.Become == "" {
		return cmd, nil, nil
	}
	if c.cfg.BecomePassword == nil {
		// -n: fail at once rather than wait for a password nobody types.
		return sh.New("sudo", "-n", "--", "sh", "-c", cmd).String(), nil, nil
	}
	pw, err := c.cfg.BecomePassword.value()
	if err != nil {
		return "", nil, fmt.Errorf("become password: %w", err)
	}
	// -S reads the password from stdin; -p '' prints no prompt.
	return sh.New("sudo", "-S", "-p", "", "--", "sh", "-c", cmd).String(), append(append([]byte{}, pw...), '\n'), nil
}

// becomeError turns sudo's own refusals into an error that says what to do.
func (c *Client) becomeError(err error) error {
	var exit *ExitError
	if !errors.As(err, &exit) || c.cfg.Become == "" {
		return err
	}
	switch {
	case strings.Contains(exit.Stderr, "a password is required"):
		return fmt.Errorf("%w on %s: user %s needs a password for sudo; set MVORCH_BECOME_PASSWORD or use --ask-become-pass (or allow NOPASSWD)", ErrBecome, c.cfg.Name, c.cfg.User)
	case strings.Contains(exit.Stderr, "incorrect password attempt") || strings.Contains(exit.Stderr, "Sorry, try again"):
		return fmt.Errorf("%w on %s: the sudo password for %s was not accepted", ErrBecome, c.cfg.Name, c.cfg.User)
	case strings.Contains(exit.Stderr, "is not in the sudoers file") || strings.Contains(exit.Stderr, "is not allowed to"):
		return fmt.Errorf("%w on %s: %s may not use sudo there: %s", ErrBecome, c.cfg.Name, c.cfg.User, strings.TrimSpace(exit.Stderr))
	}
	return err
}

// sftpServerScript starts the host's sftp-server wherever its OS keeps it.
const sftpServerScript = `for p in /usr/libexec/openssh/sftp-server /usr/lib/openssh/sftp-server /usr/lib/ssh/sftp-server /usr/libexec/sftp-server; do [ -x "$p" ] && exec "$p"; done; echo "no sftp-server found" >&2; exit 127`

// becomeSFTP runs sftp-server through sudo on an exec session, so that files
// are read and written as root and end up root-owned.
func (c *Client) becomeSFTP() (*sftp.Client, error) {
	sess, err := c.conn.NewSession()
	if err != nil {
		return nil, err
	}
	s, err := c.startOn(sess, sftpServerScript)
	if err != nil {
		return nil, err
	}
	sc, err := sftp.NewClientPipe(s.out, s.in)
	if err != nil {
		werr := c.exitErr(s, sftpServerScript)
		sess.Close()
		if werr != nil {
			return nil, werr
		}
		return nil, err
	}
	go func() {
		// The session ends when the sftp client closes its pipe.
		_ = sess.Wait()
		sess.Close()
	}()
	return sc, nil
}
