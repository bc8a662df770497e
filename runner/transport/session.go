package transport

import (
	"context"
	"fmt"
	"io"

	"golang.org/x/crypto/ssh"
)

// started is a command running on a session of its own, its standard input
// and output kept as pipes: what Pipe, Hold and sudo's SFTP are built on.
type started struct {
	sess   *ssh.Session
	in     io.WriteCloser
	out    io.Reader
	stderr *lockedBuffer
}

// startOn starts cmd on sess through become, and writes what sudo must read
// first (the password) to its standard input. On error sess is closed.
func (c *Client) startOn(sess *ssh.Session, cmd string) (*started, error) {
	wrapped, prefix, err := c.become(cmd)
	if err != nil {
		sess.Close()
		return nil, err
	}
	s := &started{sess: sess, stderr: &lockedBuffer{}}
	if s.in, err = sess.StdinPipe(); err == nil {
		s.out, err = sess.StdoutPipe()
	}
	if err == nil {
		sess.Stderr = s.stderr
		err = sess.Start(wrapped)
	}
	if err == nil && len(prefix) > 0 {
		_, err = s.in.Write(prefix)
	}
	if err != nil {
		sess.Close()
		return nil, err
	}
	return s, nil
}

// startSession takes a session slot, opens a session and starts cmd on it
// (startOn). free gives the slot back; call it once the session is closed.
func (c *Client) startSession(ctx context.Context, cmd string) (s *started, free func(), err error) {
	free, err = c.acquireSession(ctx)
	if err != nil {
		return nil, nil, err
	}
	sess, err := openWithContext(ctx, c.conn.NewSession, (*ssh.Session).Close, free)
	if err != nil {
		return nil, nil, c.connErr(fmt.Errorf("opening session: %w", err))
	}
	if s, err = c.startOn(sess, cmd); err != nil {
		free()
		return nil, nil, c.connErr(err)
	}
	return s, free, nil
}

// exitErr is the command's error once its session has ended: its exit
// status with its stderr, or why the session failed, sudo's refusals
// explained.
func (c *Client) exitErr(s *started, asked string) error {
	werr := s.sess.Wait() // first: stderr is complete only then
	res := Result{Stderr: []byte(s.stderr.String())}
	return c.becomeError(c.exitError(asked, &res, werr))
}
