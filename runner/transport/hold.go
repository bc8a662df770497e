package transport

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
)

// holdAnswer bounds the wait for a held command's first line (a sudo that
// asks again for a password would otherwise wait forever).
const holdAnswer = 60 * time.Second

// holdHeartbeat is how often Hold writes a byte to the held command's stdin.
const holdHeartbeat = 5 * time.Second

// Hold starts cmd and keeps its standard input open until release is
// called. It returns the first line cmd prints, or cmd's error when it exits
// before printing one. What cmd prints after that line is copied to rest
// (nil: discarded), which is closed, if it is an io.Closer, when cmd's
// output ends. Whatever cmd holds (a flock, say) lives as long as
// this connection: if mvorch dies, sshd closes the session, cmd reads EOF and
// ends, and the host frees what it held. release closes stdin and waits for
// cmd to end.
func (c *Client) Hold(ctx context.Context, cmd string, rest io.Writer) (line string, release func(), err error) {
	asked := cmd
	cmd, prefix, err := c.become(cmd)
	if err != nil {
		return "", nil, err
	}
	freeSlot, err := c.acquireSession(ctx)
	if err != nil {
		return "", nil, err
	}
	sess, err := openWithContext(ctx, c.conn.NewSession, (*ssh.Session).Close, freeSlot)
	if err != nil {
		return "", nil, c.connErr(fmt.Errorf("opening session: %w", err))
	}
	fail := func(err error) (string, func(), error) {
		sess.Close()
		freeSlot()
		return "", nil, err
	}
	stdin, err := sess.StdinPipe()
	if err != nil {
		return fail(err)
	}
	stdout, err := sess.StdoutPipe()
	if err != nil {
		return fail(err)
	}
	var stderr bytes.Buffer
	sess.Stderr = &stderr
	if err := sess.Start(cmd); err != nil {
		return fail(c.connErr(err))
	}
	if len(prefix) > 0 {
		if _, err := stdin.Write(prefix); err != nil {
			return fail(c.connErr(err))
		}
	}
	lines := make(chan string, 1)
	if rest == nil {
		rest = io.Discard
	}
	go func() {
		br := bufio.NewReader(stdout)
		l, _ := br.ReadString('\n')
		lines <- l
		_, _ = io.Copy(rest, br)
		if cl, ok := rest.(io.Closer); ok {
			cl.Close()
		}
	}()
	select {
	case l := <-lines:
		if l == "" {
			err := sess.Wait()
			res := Result{Stderr: stderr.Bytes()}
			return fail(c.becomeError(c.exitError(asked, &res, err)))
		}
		// A heartbeat on stdin tells the held command mvorch is still there.
		stop := make(chan struct{})
		go func() {
			t := time.NewTicker(holdHeartbeat)
			defer t.Stop()
			for {
				select {
				case <-stop:
					return
				case <-t.C:
					if _, err := stdin.Write([]byte{'.'}); err != nil {
						return
					}
				}
			}
		}()
		var once sync.Once
		return l[:len(l)-1], func() {
			once.Do(func() {
				close(stop)
				stdin.Close()
				_ = sess.Wait()
				sess.Close()
				freeSlot()
			})
		}, nil
	case <-ctx.Done():
		sess.Signal(ssh.SIGKILL)
		return fail(ctx.Err())
	case <-time.After(holdAnswer):
		sess.Signal(ssh.SIGKILL)
		return fail(fmt.Errorf("%s: %q printed nothing within %s", c.cfg.Name, firstLine(asked, 100), holdAnswer))
	}
}
