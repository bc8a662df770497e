package runner

import (
	"context"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/mvorch/mvorch/runner/transport"
	"github.com/mvorch/mvorch/steps"
)

// reloadWait bounds how long docker's API is asked whether a reload took:
// dockerd handles SIGHUP at once, but ExecReload only sends it.
const reloadWait = 10 * time.Second

// refusedMark starts what dockerd logs when it rejects daemon.json, on a
// reload as at a start (moby's config.Reload): a restart would fail the same way.
const refusedMark = "unable to configure the Docker daemon"

// refusedError is a reload that dockerd refused, with its own message.
type refusedError struct{ msg string }

func (e *refusedError) Error() string {
	return "dockerd refused the new configuration on reload: " + e.msg
}

// reloadDocker runs an OpReloadDocker: daemon.json with op.Data's keys
// spelled out where it lacks them, the reload, the check in docker's API,
// daemon.json put back as it was. It returns why the reload did not take
// ("" when it did); err is for a host that could not be worked on at all,
// or a *refusedError when dockerd rejected the file (it then runs on as it
// was, and a restart would not start).
func (r *Runner) reloadDocker(ctx context.Context, c *transport.Client, op steps.Op) (why string, err error) {
	cur, mode, exists, err := c.ReadFile(ctx, op.Path)
	if err != nil {
		return "", err
	}
	reloaded := cur
	if spelled := steps.SpelledOut(cur, op.Data); spelled != nil {
		if !exists {
			mode = 0o644
			if err := c.MkdirAll(ctx, path.Dir(op.Path), 0o755); err != nil {
				return "", err
			}
		}
		if err := c.WriteFileAtomic(ctx, op.Path, spelled, mode); err != nil {
			return "", err
		}
		reloaded = spelled
		defer func() {
			var perr error
			if exists {
				perr = c.WriteFileAtomic(context.WithoutCancel(ctx), op.Path, cur, mode)
			} else {
				perr = c.Remove(context.WithoutCancel(ctx), op.Path)
			}
			if perr != nil && err == nil {
				err = fmt.Errorf("putting %s back after the reload: %w", op.Path, perr)
			}
		}()
	}
	if _, err := c.Run(ctx, op.Cmd, nil); err != nil {
		if c.Err() != nil {
			return "", err
		}
		return fmt.Sprintf("%s failed: %v", op.Cmd, err), nil
	}
	api := r.dockerAPI(c)
	why = "docker's API did not answer"
	_ = poll(ctx, reloadWait, func() error {
		info, err := api.get(ctx, "/info")
		if err != nil {
			why = "docker's API did not answer: " + err.Error()
			return err
		}
		if why = steps.ReloadMismatch(info, reloaded, op.Data, op.Addr); why != "" {
			return fmt.Errorf("%s", why)
		}
		return nil
	})
	if ctx.Err() != nil {
		return "", ctx.Err()
	}
	if why != "" {
		if msg := refusal(dockerLog(c)); msg != "" {
			return why, &refusedError{msg}
		}
	}
	return why, nil
}

// refusal finds dockerd's rejection of daemon.json after its last reload
// signal in its log lines, or "".
func refusal(log string) string {
	lines := strings.Split(log, "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		l := lines[i]
		if strings.Contains(l, "Got signal to reload configuration") {
			return ""
		}
		if j := strings.Index(l, refusedMark); j >= 0 {
			return strings.TrimSuffix(strings.TrimSpace(l[j:]), `"`)
		}
	}
	return ""
}

// reloadOrRestart reloads docker and, when the reload did not take,
// restarts it (restart, which in a run also puts the previous configuration
// back if docker does not come up). It returns why it restarted.
func (r *Runner) reloadOrRestart(ctx context.Context, host string, op steps.Op, restart func() error) (string, error) {
	why, err := r.reloadDocker(ctx, r.clients[host], op)
	if err != nil || why == "" {
		return "", err
	}
	r.logf("%s: the reload did not take (%s); restarting docker instead", host, why)
	if s := dockerLog(r.clients[host]); s != "" && r.opts.Verbose >= 1 {
		r.logf("%s: dockerd says:\n%s", host, s)
	}
	return why, restart()
}
