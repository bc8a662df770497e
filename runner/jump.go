package runner

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/mvorch/mvorch/runner/transport"
)

// hop is one jump host of a ProxyJump-style list: [user@]host[:port].
type hop struct {
	User, Host string
	Port       int
}

// parseJump reads "user@bastion:2222,other" (as ssh -J takes it).
func parseJump(spec string) ([]hop, error) {
	var hops []hop
	for _, part := range strings.Split(spec, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			return nil, fmt.Errorf("jump %q: empty hop", spec)
		}
		h := hop{}
		if u, rest, ok := strings.Cut(part, "@"); ok {
			h.User, part = u, rest
		}
		host, port, err := net.SplitHostPort(part)
		if err != nil {
			host = strings.Trim(part, "[]")
		} else if h.Port, err = strconv.Atoi(port); err != nil || h.Port < 1 || h.Port > 65535 {
			return nil, fmt.Errorf("jump %q: bad port %q", spec, port)
		}
		if host == "" || strings.HasPrefix(host, "-") || strings.ContainsAny(host, " \t\n'\"`;|&$") {
			return nil, fmt.Errorf("jump %q: bad host %q", spec, host)
		}
		h.Host = host
		hops = append(hops, h)
	}
	return hops, nil
}

// jumpClient returns the connection to the last hop of spec, dialling the
// chain once and sharing it between every host behind it. Each hop's host key
// is checked under that hop's own name.
func (r *Runner) jumpClient(ctx context.Context, spec string, base transport.Config) (*transport.Client, error) {
	r.jumpMu.Lock()
	defer r.jumpMu.Unlock()
	if c, ok := r.jumps[spec]; ok {
		return c, nil
	}
	hops, err := parseJump(spec)
	if err != nil {
		return nil, err
	}
	var prev *transport.Client
	for _, h := range hops {
		// A hop is looked up in ssh_config under its own name, like ssh -J.
		cfg := base
		cfg.Name, cfg.Address, cfg.Port, cfg.User = "jump host "+h.Host, h.Host, h.Port, h.User
		cfg.Become, cfg.BecomePassword = "", nil
		if _, err := r.applySSHConfig(&cfg, h.Host, ""); err != nil {
			return nil, err
		}
		if cfg.User == "" {
			cfg.User = base.User
		}
		var c *transport.Client
		if prev == nil {
			c, err = transport.Dial(ctx, cfg)
		} else {
			c, err = transport.DialVia(ctx, cfg, prev)
		}
		if err != nil {
			return nil, err
		}
		r.jumpList = append(r.jumpList, c)
		prev = c
	}
	r.jumps[spec] = prev
	return prev, nil
}
