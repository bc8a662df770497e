package transport

import (
	"context"
	"fmt"
	"net"
)

// DialTCP opens a TCP connection from the host to addr (an SSH direct-tcpip
// channel), so that mvorch can talk to a service as the host itself sees it,
// e.g. the registry's HTTP API, without any tool on the host.
func (c *Client) DialTCP(ctx context.Context, addr string) (net.Conn, error) {
	type result struct {
		conn net.Conn
		err  error
	}
	done := make(chan result, 1)
	go func() {
		conn, err := c.conn.Dial("tcp", addr)
		done <- result{conn, err}
	}()
	select {
	case r := <-done:
		if r.err != nil {
			return nil, fmt.Errorf("%s: connecting to %s through ssh: %w", c.cfg.Name, addr, r.err)
		}
		return r.conn, nil
	case <-ctx.Done():
		go func() {
			if r := <-done; r.conn != nil {
				r.conn.Close()
			}
		}()
		return nil, ctx.Err()
	}
}

// Name is the host's name as the inventory gives it.
func (c *Client) Name() string { return c.cfg.Name }
