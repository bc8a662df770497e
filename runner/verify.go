package runner

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/mvorch/mvorch/inventory"
	"github.com/mvorch/mvorch/runner/sh"
)

// Pair is one ping: expected and actual reachability between containers.
type Pair struct {
	From   string `json:"from"`
	To     string `json:"to"`
	Expect bool   `json:"expect"`
	Got    bool   `json:"got"`
}

// VerifyReport is the connectivity matrix.
type VerifyReport struct {
	OK    bool   `json:"ok"`
	Pairs []Pair `json:"pairs"`
	// Containers are the matrix's rows and columns, in inventory order.
	Containers []string `json:"containers"`
	// Problems say why a container could not ping at all.
	Problems []string `json:"problems,omitempty"`
}

// Verify pings, from each container, every other container once. Two
// containers are expected to reach each other exactly when they share a
// network: different macvlan networks need a layer-3 router.
func (r *Runner) Verify(ctx context.Context) (*VerifyReport, error) {
	cts := r.inv.Containers
	rep := &VerifyReport{OK: true}
	for _, c := range cts {
		rep.Containers = append(rep.Containers, c.Name)
	}
	got := map[[2]string]bool{}
	var mu sync.Mutex
	err := r.forEachHost(ctx, "verify", r.hostNames(), func(ctx context.Context, h *inventory.Host) error {
		for _, from := range r.inv.ContainersOn(h.Name) {
			res, err := r.pingAll(ctx, h.Name, from, cts)
			if err != nil {
				if ctx.Err() != nil {
					return err
				}
				// A container that cannot ping reaches nothing: its row fails.
				mu.Lock()
				rep.Problems = append(rep.Problems, fmt.Sprintf("%s on %s: %v", from.Name, h.Name, err))
				mu.Unlock()
				continue
			}
			mu.Lock()
			for to, ok := range res {
				got[[2]string{from.Name, to}] = ok
			}
			mu.Unlock()
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Strings(rep.Problems)
	for _, from := range cts {
		for _, to := range cts {
			if from.Name == to.Name && from.Host == to.Host {
				continue
			}
			p := Pair{From: from.Name, To: to.Name, Expect: from.Network == to.Network, Got: got[[2]string{from.Name, to.Name}]}
			rep.OK = rep.OK && p.Expect == p.Got
			rep.Pairs = append(rep.Pairs, p)
		}
	}
	return rep, nil
}

// pingAll pings every other container from one, all at once, in one exec.
func (r *Runner) pingAll(ctx context.Context, host string, from inventory.Container, all []inventory.Container) (map[string]bool, error) {
	var script []string
	for _, to := range all {
		if to.Name == from.Name && to.Host == from.Host {
			continue
		}
		ip := to.IP.String()
		probe := "ping -c1 -W1 " + ip
		if to.Network == from.Network {
			// A pair expected to answer gets more chances: one lost packet on
			// a busy host is not a broken network. A pair expected not to
			// answer cannot answer by accident.
			probe += " >/dev/null 2>&1 || ping -c3 -W2 " + ip
		}
		script = append(script, fmt.Sprintf("( (%s) >/dev/null 2>&1 && echo %s ok || echo %s no) &", probe, ip, ip))
	}
	script = append(script, "wait")
	cmd := sh.New("docker", "exec", "--", from.Name, "sh", "-c", strings.Join(script, "\n"))
	res, err := r.clients[host].Run(ctx, cmd.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("pinging from %s: %w", from.Name, err)
	}
	byIP := map[string]bool{}
	for _, line := range strings.Split(string(res.Stdout), "\n") {
		if ip, status, ok := strings.Cut(strings.TrimSpace(line), " "); ok {
			byIP[ip] = status == "ok"
		}
	}
	out := map[string]bool{}
	for _, to := range all {
		if to.Name != from.Name || to.Host != from.Host {
			out[to.Name] = byIP[to.IP.String()]
		}
	}
	return out, nil
}
