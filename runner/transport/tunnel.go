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
	return c.dialChannel(ctx, "tcp", addr)
}

// DialUnix connects to a unix socket on the host (OpenSSH's
// direct-streamlocal channel), e.g. dockerd's API socket: no process starts
// on the host. sshd refuses it under AllowStreamLocalForwarding no, and the
// socket is opened as the login user, whatever become says.
func (c *Client) DialUnix(ctx context.Context, path string) (net.Conn, error) {
	return c.dialChannel(ctx, "unix", path)
}

func (c *Client) dialChannel(ctx context.Context, network, addr string) (net.Conn, error) {
	if err := c.lostErr(); err != nil {
		return nil, err
	}
	type result struct {
		conn net.Conn
		err  error
	}
	done := make(chan result, 1)
	go func() {
		conn, err := c.conn.Dial(network, addr)
		done <- result{conn, err}
	}()
	select {
	case r := <-done:
		if r.err != nil {
			return nil, fmt.Errorf("%s: connecting to %s through ssh: %w", c.cfg.Name, addr, c.connErr(r.err))
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
