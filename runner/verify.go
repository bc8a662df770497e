package runner

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
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
	// Problems say why a container could not ping at all.
	Problems []string `json:"problems,omitempty"`
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
// other network (which must not answer). Two containers are expected to
// reach each other exactly when they share a network: different macvlan
// networks need a layer-3 router.
func VerifyPairs(cts []inventory.Container, full bool) (pairs []Pair, mode string) {
	if full || len(cts) <= FullMatrixMax {
		for _, from := range cts {
			for _, to := range cts {
				if from.Name == to.Name && from.Host == to.Host {
					continue
				}
				pairs = append(pairs, pair(from, to, from.Network == to.Network))
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
					pairs = append(pairs, pair(from, peers[(i+1)%len(peers)], true))
				}
				continue
			}
			pairs = append(pairs, pair(from, peers[i%len(peers)], false))
		}
	}
	return pairs, "sampled"
}

func pair(from, to inventory.Container, expect bool) Pair {
	return Pair{From: from.Name, FromHost: from.Host, To: to.Name, ToHost: to.Host, Expect: expect}
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
	rep.Pairs, rep.Mode = VerifyPairs(cts, full)
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
	for _, p := range rep.Pairs {
		rep.OK = rep.OK && p.Expect == p.Got
	}
	return rep, nil
}

// containerPIDs asks dockerd for the main process of each container; a
// container that is missing or stopped is a problem (it reaches nothing).
func (r *Runner) containerPIDs(ctx context.Context, host string, names []string) (map[string]int, []string, error) {
	d := newDockerAPI(r.clients[host])
	defer d.close()
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

// pingOnHost makes a host's pings (pairs whose From is on the host) and
// reads the answers as they come. It stops once every expected answer is
// in and the pings that should get none have had their wait.
func (r *Runner) pingOnHost(ctx context.Context, host string, pairs []Pair, ipOf map[[2]string]string) ([]bool, []string, error) {
	var names []string
	for _, p := range pairs {
		if len(names) == 0 || names[len(names)-1] != p.From {
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
	for i, p := range pairs {
		if _, ok := pids[p.From]; !ok {
			continue
		}
		ping := func(count, wait string) string {
			return sh.New("ping", "-n", "-q", "-c", count, "-W", wait, ipOf[[2]string{p.ToHost, p.To}]).Raw(">/dev/null 2>&1").String()
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
		inner[p.From] = append(inner[p.From], fmt.Sprintf("{ echo b %d; { %s; } && echo %d ok || echo %d no; } &", i, probe, i, i))
	}
	for _, name := range names {
		if lines := inner[name]; len(lines) > 0 {
			body := strings.Join(append(lines, "wait"), "\n")
			script = append(script, sh.New("nsenter", "-t", strconv.Itoa(pids[name]), "-n", "sh", "-c", body).Raw("&"))
		}
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
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
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
// run); stop ends the reading. On a session of its own (Pipe), stop closes
// the session. Through the host's one shell, the script runs as Stream's
// command and is not cut short by stop, nor when ctx ends (killing it would
// cost the host a session of its own): what pings are left end within their
// -W.
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
	go func() {
		defer close(ended)
		res, err := c.Stream(context.WithoutCancel(ctx), script, nil, pw)
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
	return pr, func() (string, error) { <-ended; return msg, runErr }, func() { pr.Close() }, nil
}
