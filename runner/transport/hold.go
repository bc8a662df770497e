package transport

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"
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
// output ends. Whatever cmd holds (a flock, say) lives as long as this
// connection: if mvorch dies, sshd closes the session, cmd reads EOF and
// ends, and the host frees what it held. release closes stdin and waits for
// cmd to end and for its output to be in rest.
func (c *Client) Hold(ctx context.Context, cmd string, rest io.Writer) (line string, release func(), err error) {
	s, freeSlot, err := c.startSession(ctx, cmd)
	if err != nil {
		return "", nil, err
	}
	sess, stdin, stdout := s.sess, s.in, s.out
	fail := func(err error) (string, func(), error) {
		sess.Close()
		freeSlot()
		return "", nil, err
	}
	lines := make(chan string, 1)
	if rest == nil {
		rest = io.Discard
	}
	copied := make(chan struct{})
	go func() {
		defer close(copied)
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
			return fail(c.exitErr(s, cmd))
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
		return strings.TrimSuffix(l, "\n"), func() {
			once.Do(func() {
				close(stop)
				stdin.Close()
				_ = sess.Wait()
				sess.Close()
				<-copied
				freeSlot()
			})
		}, nil
	case <-ctx.Done():
		sess.Signal(ssh.SIGKILL)
		return fail(ctx.Err())
	case <-time.After(holdAnswer):
		sess.Signal(ssh.SIGKILL)
		return fail(fmt.Errorf("%s: %q printed nothing within %s", c.cfg.Name, firstLine(cmd, 100), holdAnswer))
	}
}
