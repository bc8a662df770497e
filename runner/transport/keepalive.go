package transport

import (
	"context"
	"fmt"
	"time"
)

// maxMissedKeepAlives is OpenSSH's ServerAliveCountMax default.
const maxMissedKeepAlives = 3

// keepAlive sends keepalive@openssh.com every interval. A host that stops
// answering (cable pulled, host frozen) would otherwise leave every command
// waiting on it forever; after maxMissedKeepAlives unanswered intervals the
// connection is closed and everything in flight fails with ErrConnectionLost.
func (c *Client) keepAlive(ctx context.Context) {
	tick := time.NewTicker(c.cfg.KeepAlive)
	defer tick.Stop()
	answered := make(chan struct{}, 1)
	pending, missed := false, 0
	for {
		select {
		case <-ctx.Done():
			return
		case <-answered:
			pending, missed = false, 0
		case <-tick.C:
			if !pending {
				pending = true
				go c.sendKeepAlive(answered)
				continue
			}
			if missed++; missed >= maxMissedKeepAlives {
				c.markLost(fmt.Errorf("%w: no answer to keepalive in %s",
					ErrConnectionLost, maxMissedKeepAlives*c.cfg.KeepAlive))
				return
			}
		}
	}
}

// sendKeepAlive waits for the reply; any reply, even a refusal, proves the
// host alive. It returns without signalling when the connection closes.
func (c *Client) sendKeepAlive(answered chan<- struct{}) {
	if _, _, err := c.conn.SendRequest("keepalive@openssh.com", true, nil); err == nil {
		answered <- struct{}{}
	}
}
