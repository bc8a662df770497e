package runner

import (
	"fmt"
	"strings"
	"time"

	"github.com/mvorch/mvorch/steps"
)

// liveView redraws one line per host in place on a terminal: the step each
// host is in and its latest change. Off a terminal, plain lines are printed
// instead (one per change), which logs and CI keep.
type liveView struct {
	hosts []string
	lines map[string]string
	drawn int
}

func newLiveView(hosts []string) *liveView {
	lines := map[string]string{}
	for _, h := range hosts {
		lines[h] = "waiting"
	}
	return &liveView{hosts: hosts, lines: lines}
}

// render returns the escape sequence that redraws every host line.
func (v *liveView) render() string {
	var b strings.Builder
	if v.drawn > 0 {
		fmt.Fprintf(&b, "\x1b[%dF", v.drawn)
	}
	for _, h := range v.hosts {
		fmt.Fprintf(&b, "\x1b[2K%-10s %s\n", h, v.lines[h])
	}
	v.drawn = len(v.hosts)
	return b.String()
}

func stepLabel(name string) string {
	return fmt.Sprintf("[%d/%d] %-15s", steps.Index(name)+1, len(steps.All), name)
}

// changeStarted shows what a host is doing now.
func (r *Runner) changeStarted(ch *steps.Change) {
	if r.live == nil {
		return
	}
	r.logMu.Lock()
	defer r.logMu.Unlock()
	r.live.lines[ch.Host] = fmt.Sprintf("%s %-3s %s ...", stepLabel(ch.Step), ch.Action.Symbol(), ch.Target)
	fmt.Fprint(r.opts.Log, r.live.render())
}

// progressLine is the plain line for one finished change or undo.
func (r *Runner) progressLine(host, step, symbol, target string, err error, d time.Duration) {
	r.logf("%-10s %-15s %-3s %s  %s (%.2fs)", host, step, symbol, target, status(err), d.Seconds())
}

// progress reports a finished change: in place on a terminal, else a line.
func (r *Runner) progress(ch *steps.Change, err error, d time.Duration) {
	if r.live == nil {
		r.progressLine(ch.Host, ch.Step, ch.Action.Symbol(), ch.Target, err, d)
		return
	}
	r.logMu.Lock()
	defer r.logMu.Unlock()
	r.live.lines[ch.Host] = fmt.Sprintf("%s %-3s %s  %s (%.2fs)", stepLabel(ch.Step), ch.Action.Symbol(), ch.Target, status(err), d.Seconds())
	fmt.Fprint(r.opts.Log, r.live.render())
}
