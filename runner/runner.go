// Package runner connects to the inventory's hosts (one SSH connection per
// host for the whole command), gathers their facts, plans with package steps,
// applies plans step by step with hosts in parallel, journals every change
// on its host, and verifies the result.
package runner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/user"
	"sync"
	"time"

	"golang.org/x/sys/unix"
	"golang.org/x/term"

	"github.com/mvorch/mvorch/inventory"
	"github.com/mvorch/mvorch/runner/sshconfig"
	"github.com/mvorch/mvorch/runner/transport"
	"github.com/mvorch/mvorch/steps"
)

// Options are the settings every command shares.
type Options struct {
	Forks             int // hosts worked on at once; 0 means all (at most 64)
	AcceptNewHostKeys bool
	ConnectTimeout    time.Duration
	Replace           bool
	// Log receives progress lines; nil discards them.
	Log     io.Writer
	Verbose int
	// Live redraws one status line per host in place (Log is a terminal).
	Live bool
	// KeepGoing lets healthy hosts finish the run when others fail.
	KeepGoing bool
	// SSHConfig is the OpenSSH client config to honour, read as ssh -F
	// reads it ("": ~/.ssh/config then /etc/ssh/ssh_config, as ssh without
	// -F; "none": none).
	SSHConfig string
	// Warn receives warnings (nil: os.Stderr).
	Warn io.Writer
	// OneShell runs every host's commands and file operations through one
	// long-lived shell per host (transport.Config.OneShell).
	OneShell bool
	// AskBecomePass asks for the sudo password once on the terminal;
	// otherwise MVORCH_BECOME_PASSWORD is used if set, else sudo -n.
	AskBecomePass bool
}

// Runner holds the connections to the hosts of one inventory.
type Runner struct {
	inv     *inventory.Inventory
	opts    Options
	clients map[string]*transport.Client
	facts   map[string]*steps.Facts
	// apis are the hosts' docker API clients (dockerAPI), kept until Close.
	apisMu sync.Mutex
	apis   map[*transport.Client]*dockerAPI
	logMu  sync.Mutex
	runID  string
	by     string
	// pass asks for an encrypted key's passphrase once for all hosts.
	pass *transport.Passphrases
	// becomePass is the one sudo password of this command, if any.
	becomePass *transport.BecomePassword
	live       *liveView
	// unlocks release the host locks Lock took.
	unlocks []func()
	// sshcfg is the user's OpenSSH client configuration (nil: none).
	sshcfg *sshconfig.Config
	warned map[string]bool
	// transferLogged holds the hosts whose file transfer -v has named.
	transferLogged sync.Map
	// jumps are the jump host connections, shared by the hosts behind them.
	jumpMu   sync.Mutex
	jumps    map[string]*transport.Client
	jumpList []*transport.Client
	// locked holds, per host, the facts script's output as the lock's
	// session reads it, for the next Gather.
	lockedMu sync.Mutex
	locked   map[string]*factsOutput
}

// Connect dials every host in parallel. On any failure it closes what it
// opened and reports every host that failed.
func Connect(ctx context.Context, inv *inventory.Inventory, opts Options) (*Runner, error) {
	if opts.Forks <= 0 || opts.Forks > 64 {
		opts.Forks = min(max(len(inv.Hosts), 1), 64)
	}
	if opts.Log == nil {
		opts.Log = io.Discard
	}
	r := &Runner{inv: inv, opts: opts, clients: map[string]*transport.Client{}, pass: transport.TerminalPassphrases(),
		jumps: map[string]*transport.Client{}}
	r.runID, r.by = newRunID()
	r.becomePass = becomePassword(opts.AskBecomePass)
	if r.opts.Warn == nil {
		r.opts.Warn = os.Stderr
	}
	if err := r.loadSSHConfig(); err != nil {
		return nil, err
	}
	var mu sync.Mutex
	err := r.forEachHost(ctx, "connect", r.hostNames(), func(ctx context.Context, h *inventory.Host) error {
		start := time.Now()
		cfg, jump, err := r.sshConfig(h)
		if err != nil {
			return err
		}
		var c *transport.Client
		if jump == "" {
			c, err = transport.Dial(ctx, cfg)
		} else {
			var via *transport.Client
			if via, err = r.jumpClient(ctx, jump, cfg); err == nil {
				c, err = transport.DialVia(ctx, cfg, via)
			}
		}
		if err != nil {
			return err
		}
		c.WarmShell(ctx)
		if cfg.Become != "" {
			// sudo is tried once here, so a refusal is one clear error now
			// rather than a wait inside the lock or a failed step later.
			if _, err := c.Run(ctx, "true", nil); err != nil {
				c.Close()
				return err
			}
		}
		if k := c.AddedHostKey(); k != "" {
			r.logf("%s: new host key added to known_hosts: %s", h.Name, k)
		}
		r.timing(h.Name, "connected", start)
		mu.Lock()
		r.clients[h.Name] = c
		mu.Unlock()
		return nil
	})
	if err != nil {
		r.Close()
		return nil, err
	}
	return r, nil
}

func (r *Runner) sshConfig(h *inventory.Host) (transport.Config, string, error) {
	s := r.inv.HostSSH(h)
	cfg := transport.Config{
		Name: h.Name, Address: h.Address, Port: s.Port, User: s.User,
		KnownHostsFile: s.KnownHosts, AcceptNewHostKeys: r.opts.AcceptNewHostKeys,
		ConnectTimeout: r.opts.ConnectTimeout, Passphrases: r.pass,
		Become: s.Become, OneShell: r.opts.OneShell,
	}
	if s.Become != "" {
		cfg.BecomePassword = r.becomePass
	}
	if s.IdentityFile != "" {
		cfg.IdentityFiles = []string{s.IdentityFile}
	}
	jump, err := r.applySSHConfig(&cfg, h.Address, s.Jump)
	return cfg, jump, err
}

// applySSHConfig fills what the inventory left unset from ~/.ssh/config, as
// `ssh ALIAS` would see it: the inventory wins over ssh_config, which wins
// over mvorch's defaults. The inventory's user and port are given to the
// lookup as `ssh -l user -p port` would give them, so Match user and %r see
// them. It returns the jump to use.
func (r *Runner) applySSHConfig(cfg *transport.Config, alias, jump string) (string, error) {
	if r.sshcfg == nil {
		return jump, nil
	}
	c, err := r.sshcfg.Lookup(alias, sshconfig.Preset{User: cfg.User, Port: cfg.Port})
	if err != nil {
		return "", fmt.Errorf("ssh config for %s: %w", alias, err)
	}
	for _, w := range c.Warnings {
		r.warnOnce("ssh_config: " + w)
	}
	if c.HostName != "" {
		cfg.Address = c.HostName
	}
	if cfg.User == "" {
		cfg.User = c.User
	}
	if cfg.Port == 0 {
		cfg.Port = c.Port
	}
	cfg.IdentityFiles = append(cfg.IdentityFiles, c.IdentityFiles...)
	cfg.IdentitiesOnly = c.IdentitiesOnly
	// --connect-timeout, when given, wins; else ssh_config's ConnectTimeout
	// (0 there is the system's TCP timeout, which mvorch does not wait for:
	// its default is kept).
	if cfg.ConnectTimeout == 0 && c.ConnectTimeout > 0 {
		cfg.ConnectTimeout = c.ConnectTimeout
	}
	if cfg.KnownHostsFile == "" && len(c.UserKnownHostsFiles) > 0 && c.UserKnownHostsFiles[0] != "none" {
		cfg.KnownHostsFile = c.UserKnownHostsFiles[0]
	}
	if c.StrictHostKeyChecking == "accept-new" {
		cfg.AcceptNewHostKeys = true
	}
	if jump == "" {
		jump = c.ProxyJump
	}
	return jump, nil
}

func (r *Runner) warnOnce(msg string) {
	r.logMu.Lock()
	defer r.logMu.Unlock()
	if r.warned == nil {
		r.warned = map[string]bool{}
	}
	if !r.warned[msg] {
		r.warned[msg] = true
		fmt.Fprintln(r.opts.Warn, "mvorch: warning:", msg)
	}
}

// Close releases the locks and ends every connection.
func (r *Runner) Close() {
	r.Unlock()
	r.apisMu.Lock()
	for _, d := range r.apis {
		d.close()
	}
	r.apis = nil
	r.apisMu.Unlock()
	if r.opts.Verbose >= 1 {
		for _, name := range r.hostNames() {
			if c := r.clients[name]; c != nil {
				r.logf("%s: %d ssh sessions", name, c.Sessions())
				if n := c.Spilled(); n > 0 {
					r.logf("%s: %d of them for commands that found the one shell busy (sessions are cheap there)", name, n)
				}
			}
		}
	}
	for _, c := range r.clients {
		c.Close()
	}
	// Jump hosts last, innermost hop first: the hosts' connections run inside them.
	for i := len(r.jumpList) - 1; i >= 0; i-- {
		r.jumpList[i].Close()
	}
}

func (r *Runner) hostNames() []string {
	names := make([]string, len(r.inv.Hosts))
	for i, h := range r.inv.Hosts {
		names[i] = h.Name
	}
	return names
}

// forEachHost runs fn for the named hosts, at most Forks at once, and waits
// for all of them. Errors come back joined, each a *steps.HostError.
func (r *Runner) forEachHost(ctx context.Context, step string, hosts []string, fn func(context.Context, *inventory.Host) error) error {
	sem := make(chan struct{}, r.opts.Forks)
	errs := make([]error, len(hosts))
	var wg sync.WaitGroup
	for i, name := range hosts {
		h, _ := r.inv.Host(name)
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				errs[i] = &steps.HostError{Host: name, Step: step, Err: ctx.Err()}
				return
			}
			defer func() { <-sem }()
			if err := fn(ctx, h); err != nil {
				errs[i] = &steps.HostError{Host: name, Step: step, Err: err}
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// timing says, with -v, how long a host took for something.
func (r *Runner) timing(host, what string, since time.Time) {
	if r.opts.Verbose >= 1 {
		r.logf("%s: %s in %.3fs", host, what, time.Since(since).Seconds())
	}
}

func (r *Runner) logf(format string, args ...any) {
	r.logMu.Lock()
	defer r.logMu.Unlock()
	fmt.Fprintf(r.opts.Log, format+"\n", args...)
}

func newRunID() (id, by string) {
	now := time.Now().UTC()
	id = fmt.Sprintf("%s-%d", now.Format("20060102T150405.000Z"), os.Getpid())
	name := "unknown"
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	machine, _ := os.Hostname()
	return id, fmt.Sprintf("%s@%s pid %d", name, machine, os.Getpid())
}

// Plan gathers facts and plans every step.
func (r *Runner) Plan(ctx context.Context) (*steps.Plan, error) {
	if err := r.Gather(ctx); err != nil {
		return nil, err
	}
	return steps.Build(r.inv, r.facts)
}

// SetLog changes where progress lines go.
func (r *Runner) SetLog(w io.Writer) {
	if w == nil {
		w = io.Discard
	}
	r.opts.Log = w
}

// becomePassword returns where the sudo password comes from: the
// environment, a prompt on the terminal, or nowhere (NOPASSWD sudo).
func becomePassword(ask bool) *transport.BecomePassword {
	if pw, ok := os.LookupEnv("MVORCH_BECOME_PASSWORD"); ok {
		return transport.NewBecomePassword(func() ([]byte, error) { return []byte(pw), nil })
	}
	if !ask {
		return nil
	}
	return transport.NewBecomePassword(func() ([]byte, error) {
		tty, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
		if err != nil {
			return nil, fmt.Errorf("--ask-become-pass needs a terminal (or set MVORCH_BECOME_PASSWORD): %w", err)
		}
		defer tty.Close()
		// Echo goes off before the prompt is shown: a person (or a script)
		// who types as soon as the prompt appears must not see the password
		// echoed. term.ReadPassword alone prints nothing, so the prompt
		// would come while echo is still on.
		fd := int(tty.Fd())
		was, err := unix.IoctlGetTermios(fd, unix.TCGETS)
		if err != nil {
			return nil, fmt.Errorf("--ask-become-pass: reading the terminal's settings: %w", err)
		}
		quiet := *was
		quiet.Lflag &^= unix.ECHO
		if err := unix.IoctlSetTermios(fd, unix.TCSETS, &quiet); err != nil {
			return nil, fmt.Errorf("--ask-become-pass: turning echo off: %w", err)
		}
		defer unix.IoctlSetTermios(fd, unix.TCSETS, was)
		fmt.Fprint(tty, "sudo password: ")
		pw, err := term.ReadPassword(fd)
		fmt.Fprintln(tty)
		return pw, err
	})
}

func (r *Runner) loadSSHConfig() error {
	path := r.opts.SSHConfig
	if path == "none" {
		return nil
	}
	var (
		c   *sshconfig.Config
		err error
	)
	if path == "" {
		// As ssh without -F: ~/.ssh/config (from the password database's
		// home, not $HOME), then /etc/ssh/ssh_config.
		c, err = sshconfig.LoadDefault()
	} else {
		// As ssh -F PATH: that file only.
		c, err = sshconfig.Load(path, "")
	}
	if err != nil {
		return fmt.Errorf("reading ssh config: %w (use --ssh-config none to ignore it)", err)
	}
	r.sshcfg = c
	return nil
}
