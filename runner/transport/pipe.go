package transport

import (
	"bytes"
	"context"
	"errors"
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

// lockedBuffer collects a session's stderr. The one shell also cuts it
// into its commands' answers (cut).
type lockedBuffer struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	more *sync.Cond // signalled at each write; nil until cut first waits
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.more != nil {
		b.more.Broadcast()
	}
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// errNoMarker is cut giving up.
var errNoMarker = errors.New("the shell's stderr did not come")

// cut waits up to wait for marker, then returns what came before it, and
// drops both from the buffer.
func (b *lockedBuffer) cut(marker []byte, wait time.Duration) ([]byte, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.more == nil {
		b.more = sync.NewCond(&b.mu)
	}
	expired := false
	t := time.AfterFunc(wait, func() {
		b.mu.Lock()
		expired = true
		b.more.Broadcast()
		b.mu.Unlock()
	})
	defer t.Stop()
	for {
		if i := bytes.Index(b.buf.Bytes(), marker); i >= 0 {
			got := append([]byte(nil), b.buf.Next(i)...)
			b.buf.Next(len(marker))
			return got, nil
		}
		if expired {
			return nil, errNoMarker
		}
		b.more.Wait()
	}
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
