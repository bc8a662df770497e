package runner

import "github.com/mvorch/mvorch/runner/transport"

// logTransfer says once per host, with -v, how its files travel: SFTP, or
// shell commands when the host serves no SFTP.
func (r *Runner) logTransfer(c *transport.Client) {
	tr := c.Transfer()
	if r.opts.Verbose < 1 || tr == "" {
		return
	}
	if _, done := r.transferLogged.LoadOrStore(c.Name(), true); !done {
		r.logf("%s: files over %s", c.Name(), tr)
	}
}
