package transport

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
)

// Pipe starts cmd (through become, like Run) and returns its standard input
// and output as one connection, e.g. for `docker system dial-stdio`, which
// relays a byte stream to dockerd's socket. The session holds a slot until
// the connection is closed.
func (c *Client) Pipe(ctx context.Context, cmd string) (*PipeConn, error) {
	s, free, err := c.startSession(ctx, cmd)
	if err != nil {
		return nil, fmt.Errorf("running %q on %s: %w", firstLine(cmd, 100), c.cfg.Name, err)
	}
	return &PipeConn{sess: s.sess, in: s.in, out: s.out, stderr: s.stderr, free: free, name: c.cfg.Name}, nil
}

// PipeConn is a session's stdin and stdout as a net.Conn. Deadlines are not
// supported (callers bound their waits with contexts and Close).
type PipeConn struct {
	sess   *ssh.Session
	in     io.WriteCloser
	out    io.Reader
	stderr *lockedBuffer
	free   func()
	name   string
	once   sync.Once
}

// Stderr is what the command has printed on its standard error so far.
func (p *PipeConn) Stderr() string { return p.stderr.String() }

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (p *PipeConn) Read(b []byte) (int, error)  { return p.out.Read(b) }
func (p *PipeConn) Write(b []byte) (int, error) { return p.in.Write(b) }

func (p *PipeConn) Close() error {
	p.once.Do(func() {
		p.sess.Close()
		p.free()
	})
	return nil
}

func (p *PipeConn) LocalAddr() net.Addr              { return pipeAddr(p.name) }
func (p *PipeConn) RemoteAddr() net.Addr             { return pipeAddr(p.name) }
func (p *PipeConn) SetDeadline(time.Time) error      { return nil }
func (p *PipeConn) SetReadDeadline(time.Time) error  { return nil }
func (p *PipeConn) SetWriteDeadline(time.Time) error { return nil }

type pipeAddr string

func (a pipeAddr) Network() string { return "ssh-pipe" }
func (a pipeAddr) String() string  { return string(a) }
