package runner

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mvorch/mvorch/inventory"
	"github.com/mvorch/mvorch/runner/sh"
	"github.com/mvorch/mvorch/runner/transport"
)

// Pair is one ping: expected and actual reachability between containers.
// Container names are unique per host, not across hosts: a container is
// its name and its host.
type Pair struct {
	From     string `json:"from"`
	To       string `json:"to"`
	Expect   bool   `json:"expect"`
	Got      bool   `json:"got"`
	FromHost string `json:"from_host"`
	ToHost   string `json:"to_host"`
	// FromKind and ToKind are "host" where that end is a host itself (From
	// or To is then the host's name), empty for a container.
	FromKind string `json:"from_kind,omitempty"`
	ToKind   string `json:"to_kind,omitempty"`
	// ToAddr is the address pinged where To is a host: its host_access
	// (shim) address on the container's network, or the gateway a router
	// holds there.
	ToAddr string `json:"to_addr,omitempty"`
	// RoutedBy is the router host between the two containers' networks,
	// through which they are expected to reach each other ("" when they
	// share a network or no router joins both).
	RoutedBy string `json:"routed_by,omitempty"`
}

// KindHost marks the host end of a pair.
const KindHost = "host"

// HostPairs are the pings between hosts and their own containers. With
// host access on a network (or as the network's router, from its gateway), the host pings each of its containers there
// and each of them pings the host's shim address: both must answer.
// Without it the host pings its own containers, which must not answer: a
// macvlan child cannot talk to its parent (article 3.5).
func HostPairs(inv *inventory.Inventory) []Pair {
	var pairs []Pair
	for _, h := range inv.Hosts {
		for _, c := range inv.ContainersOn(h.Name) {
			n, ok := inv.Network(c.Network)
			if !ok {
				continue
			}
			addr, access := inv.HostAddrOn(n, h.Name)
			pairs = append(pairs, Pair{From: h.Name, FromHost: h.Name, FromKind: KindHost, To: c.Name, ToHost: h.Name, Expect: access})
			if access {
				pairs = append(pairs, Pair{From: c.Name, FromHost: h.Name, To: h.Name, ToHost: h.Name, ToKind: KindHost, ToAddr: addr.String(), Expect: true})
			}
		}
	}
	return pairs
}

// VerifyReport is the connectivity matrix.
type VerifyReport struct {
	OK    bool   `json:"ok"`
	Pairs []Pair `json:"pairs"`
	// Mode is "full" (every ordered pair) or "sampled" (see VerifyPairs).
	Mode string `json:"mode"`
	// Containers are the matrix's rows and columns, in inventory order: a
	// container's name, or NAME@HOST where hosts share a name (Label).
	Containers []string `json:"containers"`
	// HostPairs are the pings between hosts and their own containers
	// (HostPairs): with host access both ways, expected to answer; without
	// it from the host, expected not to.
	HostPairs []Pair `json:"host_pairs"`
	// Problems say why a container could not ping at all.
	Problems []string `json:"problems,omitempty"`
	// Routers are the inventory's [[router]] entries: which networks reach
	// each other through which host.
	Routers []VerifyRouter `json:"routers,omitempty"`
}

// VerifyRouter is one [[router]] as verify reports it.
type VerifyRouter struct {
	Host     string   `json:"host"`
	Networks []string `json:"networks"`
}

// FullMatrixMax is the largest number of containers verify pings every
// other container from by default. Beyond it each container pings a sample
// (VerifyPairs): a full matrix is n*(n-1) pings, and each answered one
// leaves an ARP entry on both ends, so at 100 containers the neighbour
// tables of the hosts (1024 entries by default, gc_thresh3) overflow and
// pings fail for that reason alone.
const FullMatrixMax = 24

// A ping that is expected to get no answer is not waited out (ping -W1
// would take a second): once every expected answer is in, it is given, from
// the moment its own ping started, at least unreachableMin and at least
// unreachableFactor times as long as the slowest expected answer took from
// its ping's start. On one layer-2 segment an answer takes well under a
// millisecond and a missing router gives none at all; the expected answers,
// which ride the same path and start the same way, show how slow the host
// is right now (on a busy host, starting a ping takes longer than the
// network). A host with no expected answer waits for its pings to time out.
const (
	unreachableMin    = 100 * time.Millisecond
	unreachableFactor = 2
)

// VerifyPairs says which pings verify makes: every ordered pair of
// containers when there are at most FullMatrixMax of them or full is set;
// otherwise each container pings the next container of its network (in
// inventory order, wrapping round, so every container both sends and
// answers, and consecutive hosts are linked) and one container of each
// other network (which must answer only through a router). Two
// containers are expected to reach each other exactly when they share a
// network or a [[router]] joins both their networks: different macvlan
// networks need a layer-3 router.
func VerifyPairs(inv *inventory.Inventory, full bool) (pairs []Pair, mode string) {
	cts := inv.Containers
	if full || len(cts) <= FullMatrixMax {
		for _, from := range cts {
			for _, to := range cts {
				if from.Name == to.Name && from.Host == to.Host {
					continue
				}
				pairs = append(pairs, pair(inv, from, to))
			}
		}
		return pairs, "full"
	}
	byNet := map[string][]inventory.Container{}
	var nets []string
	index := map[string]int{}
	for _, c := range cts {
		if _, ok := byNet[c.Network]; !ok {
			nets = append(nets, c.Network)
		}
		index[c.Host+"/"+c.Name] = len(byNet[c.Network])
		byNet[c.Network] = append(byNet[c.Network], c)
	}
	for _, from := range cts {
		i := index[from.Host+"/"+from.Name]
		for _, n := range nets {
			peers := byNet[n]
			if n == from.Network {
				if len(peers) > 1 {
					pairs = append(pairs, pair(inv, from, peers[(i+1)%len(peers)]))
				}
				continue
			}
			pairs = append(pairs, pair(inv, from, peers[i%len(peers)]))
		}
	}
	return pairs, "sampled"
}

// pair is one ping and what it must get: an answer on the same network, or
// through the router between the two networks.
func pair(inv *inventory.Inventory, from, to inventory.Container) Pair {
	p := Pair{From: from.Name, FromHost: from.Host, To: to.Name, ToHost: to.Host, Expect: from.Network == to.Network}
	if r, ok := inv.RouterBetween(from.Network, to.Network); ok {
		p.Expect, p.RoutedBy = true, r.Host
	}
	return p
}

// Labeler names containers in verify's output: by name, or NAME@HOST when
// a name is used on more than one host.
type Labeler map[string]map[string]bool

// NewLabeler learns which names are shared from (host, name) pairs.
func NewLabeler(containers [][2]string) Labeler {
	l := Labeler{}
	for _, c := range containers {
		if l[c[1]] == nil {
			l[c[1]] = map[string]bool{}
		}
		l[c[1]][c[0]] = true
	}
	return l
}

// Label is how the output names the container name on host.
func (l Labeler) Label(host, name string) string {
	if len(l[name]) > 1 {
		return name + "@" + host
	}
	return name
}

// Verify makes the pings of VerifyPairs, all hosts at once and on each host
// all pings at once, in one session per host: each ping runs in its
// container's network namespace (nsenter -n) with the host's own ping, so
// no process starts in a container (a docker exec costs a host about a
// fifth of a CPU second here) and images need no ping of their own.
func (r *Runner) Verify(ctx context.Context, full bool) (*VerifyReport, error) {
	cts := r.inv.Containers
	rep := &VerifyReport{OK: true}
	var hostName [][2]string
	for _, c := range cts {
		hostName = append(hostName, [2]string{c.Host, c.Name})
	}
	labels := NewLabeler(hostName)
	for _, c := range cts {
		rep.Containers = append(rep.Containers, labels.Label(c.Host, c.Name))
	}
	rep.Pairs, rep.Mode = VerifyPairs(r.inv, full)
	for _, rt := range r.inv.Routers {
		rep.Routers = append(rep.Routers, VerifyRouter{Host: rt.Host, Networks: rt.Networks})
	}
	// The hosts' pings go with the containers' and are split off at the end.
	nc := len(rep.Pairs)
	rep.Pairs = append(rep.Pairs, HostPairs(r.inv)...)
	ipOf := map[[2]string]string{}
	for _, c := range cts {
		ipOf[[2]string{c.Host, c.Name}] = c.IP.String()
	}
	// Each host's pairs, by index, grouped by sender as VerifyPairs made them.
	byHost := map[string][]int{}
	for i, p := range rep.Pairs {
		byHost[p.FromHost] = append(byHost[p.FromHost], i)
	}
	var mu sync.Mutex
	err := r.forEachHost(ctx, "verify", r.hostNames(), func(ctx context.Context, h *inventory.Host) error {
		idx := byHost[h.Name]
		if len(idx) == 0 {
			return nil
		}
		mine := make([]Pair, len(idx))
		for k, i := range idx {
			mine[k] = rep.Pairs[i]
		}
		start := time.Now()
		res, problems, err := r.pingOnHost(ctx, h.Name, mine, ipOf)
		if err != nil {
			return err
		}
		r.timing(h.Name, fmt.Sprintf("%d pings", len(mine)), start)
		mu.Lock()
		defer mu.Unlock()
		rep.Problems = append(rep.Problems, problems...)
		for k, ok := range res {
			rep.Pairs[idx[k]].Got = ok
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Strings(rep.Problems)
	rep.Pairs, rep.HostPairs = rep.Pairs[:nc:nc], rep.Pairs[nc:]
	rep.settle()
	return rep, nil
}

// settle sets OK: every pair as expected and no problem. A container that
// should run and does not (stopped, paused, missing) is a failed check even
// when no pair shows it: alone on its network, nothing expects its answer.
// The hosts' pings of their own containers count like the others.
func (v *VerifyReport) settle() {
	v.OK = len(v.Problems) == 0
	for _, p := range slices.Concat(v.Pairs, v.HostPairs) {
		v.OK = v.OK && p.Expect == p.Got
	}
}

// containerPIDs asks dockerd for the main process of each container; a
// container that is missing or stopped is a problem (it reaches nothing).
func (r *Runner) containerPIDs(ctx context.Context, host string, names []string) (map[string]int, []string, error) {
	d := r.dockerAPI(r.clients[host])
	pids := map[string]int{}
	var problems []string
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, name := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var st struct {
				State struct {
					Running, Paused bool
					Pid             int
				}
			}
			b, err := d.get(ctx, "/containers/"+url.PathEscape(name)+"/json")
			if err == nil {
				err = json.Unmarshal(b, &st)
			}
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err != nil:
				problems = append(problems, fmt.Sprintf("%s on %s: %v", name, host, err))
			case !st.State.Running || st.State.Pid <= 0:
				problems = append(problems, fmt.Sprintf("%s on %s: container is not running", name, host))
			case st.State.Paused:
				// Its network namespace would still answer, its programs not.
				problems = append(problems, fmt.Sprintf("%s on %s: container is paused", name, host))
			default:
				pids[name] = st.State.Pid
			}
		}()
	}
	wg.Wait()
	return pids, problems, ctx.Err()
}

// scanLines sends r's lines on the channel it returns, closed at the end of
// r or once stop is closed: a reader that returns early (a deadline, a
// cancelled context) must not leave the sender blocked for ever.
func scanLines(r io.Reader, stop <-chan struct{}) <-chan string {
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			case <-stop:
				return
			}
		}
	}()
	return lines
}

// pingOnHost makes a host's pings (pairs whose From is on the host) and
// reads the answers as they come. It stops once every expected answer is
// in and the pings that should get none have had their wait.
func (r *Runner) pingOnHost(ctx context.Context, host string, pairs []Pair, ipOf map[[2]string]string) ([]bool, []string, error) {
	var names []string
	for _, p := range pairs {
		if p.FromKind != KindHost && !slices.Contains(names, p.From) {
			names = append(names, p.From)
		}
	}
	pids, problems, err := r.containerPIDs(ctx, host, names)
	if err != nil {
		return nil, nil, err
	}
	script := []sh.Command{sh.New("command", "-v", "nsenter").Raw(">/dev/null &&").Arg("command").Arg("-v").Arg("ping").Raw(">/dev/null ||").
		Raw("{ echo 'verify needs nsenter (util-linux) and ping (iputils) on the host' >&2; exit 127; }")}
	// One nsenter per container; inside it each ping is one process and
	// one fork: on a host with many pings, processes are the cost.
	expected, total := 0, 0
	inner := map[string][]string{}
	const hostSender = "\x00host" // the host's own pings, in no container
	for i, p := range pairs {
		sender := p.From
		if p.FromKind == KindHost {
			sender = hostSender
		} else if _, ok := pids[p.From]; !ok {
			continue
		}
		to := p.ToAddr
		if to == "" {
			to = ipOf[[2]string{p.ToHost, p.To}]
		}
		ping := func(count, wait string) string {
			return sh.New("ping", "-n", "-q", "-c", count, "-W", wait, to).Raw(">/dev/null 2>&1").String()
		}
		probe := ping("1", "1")
		if p.Expect {
			// A pair expected to answer gets more chances: one lost packet on
			// a busy host is not a broken network. A pair expected not to
			// answer cannot answer by accident.
			probe += " || " + ping("3", "2")
			expected++
		}
		total++
		// "b N" says ping N is starting: its wait counts from there.
		inner[sender] = append(inner[sender], fmt.Sprintf("{ echo b %d; { %s; } && echo %d ok || echo %d no; } &", i, probe, i, i))
	}
	for _, name := range names {
		if lines := inner[name]; len(lines) > 0 {
			body := strings.Join(append(lines, "wait"), "\n")
			script = append(script, sh.New("nsenter", "-t", strconv.Itoa(pids[name]), "-n", "sh", "-c", body).Raw("&"))
		}
	}
	if lines := inner[hostSender]; len(lines) > 0 {
		script = append(script, sh.New("sh", "-c", strings.Join(append(lines, "wait"), "\n")).Raw("&"))
	}
	got := make([]bool, len(pairs))
	if total == 0 {
		return got, problems, nil
	}
	script = append(script, sh.New("wait"))
	out, stderr, stop, err := startPings(ctx, r.clients[host], sh.Script(script...))
	if err != nil {
		return nil, nil, fmt.Errorf("pinging: %w", err)
	}
	defer stop()
	start := time.Now()
	done := make(chan struct{})
	defer close(done)
	lines := scanLines(out, done)
	reported, answered, begun := 0, 0, 0
	began := make([]time.Duration, len(pairs)) // when each ping started
	seen := make([]bool, len(pairs))
	var slowest time.Duration   // the longest an expected answer took from its ping's start
	var lastQuiet time.Duration // the latest start of a ping that must not be answered
	// deadline is when the unanswered pings count as unanswerable: armed
	// once every expected answer is in and every ping has started.
	deadline := time.NewTimer(time.Hour)
	defer deadline.Stop()
	rearm := func() {
		if expected == 0 || answered < expected || begun < total {
			return
		}
		at := lastQuiet + max(unreachableMin, unreachableFactor*slowest)
		deadline.Reset(max(at-time.Since(start), 0))
	}
	for reported < total {
		select {
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		case <-deadline.C:
			return got, problems, nil
		case l, ok := <-lines:
			if !ok {
				// The script ended without reporting every ping (a container
				// gone since its inspect, no ping on the host): those count
				// as failed, and stderr says why.
				msg, err := stderr()
				if err != nil {
					return nil, nil, fmt.Errorf("pinging: %w", err)
				}
				msg = strings.TrimSpace(msg)
				if msg == "" {
					msg = "the ping script ended early"
				}
				problems = append(problems, fmt.Sprintf("%s (%d of %d pings made no report): %s", host, total-reported, total, transport.FirstLines(msg, 3)))
				return got, problems, nil
			}
			now := time.Since(start)
			if n, ok := strings.CutPrefix(l, "b "); ok {
				if i, err := strconv.Atoi(n); err == nil && i >= 0 && i < len(pairs) && !seen[i] {
					seen[i], began[i] = true, now
					begun++
					if !pairs[i].Expect {
						lastQuiet = now
					}
					rearm()
				}
				continue
			}
			idx, status, _ := strings.Cut(l, " ")
			i, err := strconv.Atoi(idx)
			if err != nil || i < 0 || i >= len(pairs) {
				continue
			}
			got[i] = status == "ok"
			reported++
			if pairs[i].Expect {
				answered++
				slowest = max(slowest, now-began[i])
				rearm()
			}
		}
	}
	return got, problems, nil
}

// startPings starts the ping script, whose stdout is read as it comes. stderr
// is what the script printed there once out has ended (or why it could not
// run); stop ends the reading and the script: on a session of its own (Pipe),
// stop closes the session; through the host's one shell, stop (or the end of
// ctx) kills the script's process group through the shell itself, so that
// pings still waiting out their -W do not keep the shell from the host's
// next command.
func startPings(ctx context.Context, c *transport.Client, script string) (out io.Reader, stderr func() (string, error), stop func(), err error) {
	if !c.OneShell() {
		conn, err := c.Pipe(ctx, script)
		if err != nil {
			return nil, nil, nil, err
		}
		// The session's stdin is not read; closing it tells the shell nothing.
		return conn, func() (string, error) { return conn.Stderr(), nil }, func() { conn.Close() }, nil
	}
	pr, pw := io.Pipe()
	var msg string
	var runErr error
	ended := make(chan struct{})
	ctx, cancel := context.WithCancel(ctx)
	go func() {
		defer close(ended)
		res, err := c.Stream(ctx, script, nil, pw)
		var exit *transport.ExitError
		switch {
		case errors.As(err, &exit):
			msg = exit.Stderr
		case err != nil:
			runErr = err
		default:
			msg = string(res.Stderr)
		}
		pw.Close()
	}()
	return pr, func() (string, error) { <-ended; return msg, runErr }, func() { cancel(); pr.Close() }, nil
}
