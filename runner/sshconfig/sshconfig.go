// Package sshconfig reads the user's OpenSSH client configuration
// (ssh_config(5)) so that mvorch reaches a host the way `ssh alias` would.
//
// Only the keywords mvorch acts on are interpreted: Host, Match, Include,
// HostName, User, Port, IdentityFile, ProxyJump, UserKnownHostsFile,
// StrictHostKeyChecking, ConnectTimeout and IdentitiesOnly, and those that
// change what they resolve to: HostKeyAlias (%k), ProxyCommand (it blocks a
// later ProxyJump) and the Canonicalize* keywords. Every other
// keyword is skipped without a word, because a real config is full of
// options (ForwardAgent, ControlMaster, ...) that mean nothing to mvorch and
// must not make it refuse the file.
//
// The semantics follow OpenSSH's readconf.c rather than a simplified model,
// because a config that ssh reads one way and mvorch another would send
// mvorch to the wrong host, user or key without any error:
//
//   - Settings are evaluated in file order and the first value obtained for a
//     keyword wins; so specific Host blocks go first and `Host *` defaults
//     last. IdentityFile is the exception: every applicable one is kept.
//   - A Host line applies when one of its patterns (* and ? wildcards)
//     matches the alias exactly as given (in the final pass, the resolved
//     host name), case-sensitively, and no !negated
//     pattern matches. Patterns are separated by whitespace only: a comma is
//     an ordinary character in a Host pattern (commas separate only Match
//     pattern-lists), so `Host a,b` matches neither a nor b, as with ssh.
//   - Include inlines files at its position, but conditionally: what an
//     included file says is in force only where the Include line itself was,
//     a Host or Match line inside it cannot widen that, and the including
//     file resumes in the block it was in once the Include is done.
//   - Match lines are evaluated where they stand, with what the lines before
//     them set, as ssh's match_cfg_line does: host (the HostName so far,
//     %h expanded), originalhost (the alias), user (the User so far, else
//     the local user), localuser, exec (run with $SHELL -c, like ssh),
//     all, canonical and final, each negatable with '!'. A `Match final`
//     or CanonicalizeHostname makes a second pass in which Host and Match
//     host see the resolved host name, and values set in the first pass
//     stay.
//   - ~ and %d are the home directory from the password database, not
//     $HOME (which only Include patterns use, through glob(3)).
package sshconfig

import (
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Config is a parsed client configuration: its files, with their Includes,
// in the order ssh reads them. It is read-only after Load or Parse, so Lookup
// may be called from several goroutines.
type Config struct {
	files []*file
	// home is the user's home directory from the password database, as
	// ssh takes it for ~ and %d in paths (not $HOME).
	home string
	// globHome is what ~ means in an Include pattern: ssh expands those
	// with glob(3), which takes $HOME first.
	globHome string

	// localUser is %u, and %r when no User applies (ssh logs in as the
	// local user by default). Set once by Parse; tests override it.
	localUser string
}

// Preset is what the caller fixes before the configuration is read, as
// `ssh -l user -p port` does: the configuration's User and Port lines do not
// replace them, and Match user and %r see this user.
type Preset struct {
	User string
	Port int
}

// Host is what the configuration says about one alias. Zero values mean the
// configuration does not set the keyword; callers apply their own defaults.
type Host struct {
	// HostName is the host ssh would connect to: HostName with %h
	// expanded, lower-cased unless it is an address, canonicalised if the
	// configuration asks for it; "" if that is the alias itself.
	HostName string
	User     string // "" if neither set nor preset
	Port     int    // 0 if neither set nor preset

	// IdentityFiles holds every applicable IdentityFile in order, without
	// duplicates and without "none", with ~, %-tokens and ${ENV} expanded.
	IdentityFiles []string

	// ProxyJump is the jump list in the form `ssh -G` prints it
	// ("user@bastion:2222" last, the hops before it as written), or "" if
	// it is not set or the first one obtained was "none".
	ProxyJump string

	// UserKnownHostsFiles is the list from the first applicable
	// UserKnownHostsFile line, expanded like IdentityFiles. Nil: not set
	// (ssh's default is ~/.ssh/known_hosts ~/.ssh/known_hosts2). The single
	// element "none" means the user turned user known-hosts files off.
	UserKnownHostsFiles []string

	// StrictHostKeyChecking is "", "yes", "no", "ask" or "accept-new";
	// ssh's synonyms true/false/off are normalised to yes/no/no.
	StrictHostKeyChecking string

	ConnectTimeout time.Duration // 0 if not set
	IdentitiesOnly bool

	// Warnings lists what mvorch cannot honour, "file:line: why", e.g. a
	// ProxyCommand (mvorch connects only directly or through ProxyJump).
	Warnings []string

	// connectTimeoutSet tells ConnectTimeout 0 from none, as ssh -G does.
	connectTimeoutSet bool
	// rawIdentityFiles are the IdentityFile values as written, "none"
	// included, as `ssh -G` prints them.
	rawIdentityFiles []string
}

// ParseError is a configuration error that ssh would also refuse, with the
// file and line it is on.
type ParseError struct {
	File string
	Line int
	Msg  string
}

func (e *ParseError) Error() string { return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg) }

// Load parses the configuration file at path, normally ~/.ssh/config. A
// missing file is an empty Config and no error, as it is for ssh. home is
// the user's home directory for ~, %d and relative Includes; "" means the
// password database's entry for the user (and $HOME for Include), as ssh
// does.
//
// Like ssh, Load refuses a file (and an included file) that is writable by
// group or others or owned by someone other than the user or root: anyone
// who can write it can choose mvorch's keys, jump host and host-key policy.
func Load(path, home string) (*Config, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return newConfig(home), nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if err := checkPerms(f, path); err != nil {
		return nil, err
	}
	return Parse(f, path, home)
}

// systemDir holds the system-wide client configuration, ssh_config.
const systemDir = "/etc/ssh"

// LoadDefault reads what `ssh` reads without -F: the user's ~/.ssh/config
// (home from the password database), then the system-wide
// /etc/ssh/ssh_config, where first values not set by the user's file come
// from. Either may be missing.
func LoadDefault() (*Config, error) {
	return loadDefault(filepath.Join(PasswdHome(), ".ssh", "config"), filepath.Join(systemDir, "ssh_config"))
}

func loadDefault(userPath, systemPath string) (*Config, error) {
	c, err := Load(userPath, "")
	if err != nil {
		return nil, err
	}
	f, err := os.Open(systemPath)
	if errors.Is(err, fs.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	// ssh does not check the system file's permissions (root's to keep),
	// only those of what it includes.
	sys, err := (&parser{cfg: c, system: true}).parse(f, systemPath, 0)
	if err != nil {
		return nil, err
	}
	c.files = append(c.files, sys)
	return c, nil
}

// Parse reads a configuration from r; name is the file name that errors and
// warnings give ("name:line: ..."). home is as for Load. r itself is not
// permission-checked, but files it Includes are.
func Parse(r io.Reader, name, home string) (*Config, error) {
	c := newConfig(home)
	p := &parser{cfg: c}
	f, err := p.parse(r, name, 0)
	if err != nil {
		return nil, err
	}
	c.files = append(c.files, f)
	return c, nil
}

func newConfig(home string) *Config {
	c := &Config{home: home, globHome: home}
	u, err := user.LookupId(strconv.Itoa(os.Getuid()))
	if err == nil {
		c.localUser = u.Username
	} else {
		c.localUser = currentUsername()
	}
	if home == "" {
		if err == nil {
			c.home = u.HomeDir
		} else {
			c.home, _ = os.UserHomeDir()
		}
		c.globHome = os.Getenv("HOME")
		if c.globHome == "" {
			c.globHome = c.home
		}
	}
	return c
}

// PasswdHome is the user's home directory as ssh finds it: from the
// password database, whatever $HOME says.
func PasswdHome() string {
	if u, err := user.LookupId(strconv.Itoa(os.Getuid())); err == nil {
		return u.HomeDir
	}
	h, _ := os.UserHomeDir()
	return h
}

func currentUsername() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	for _, k := range []string{"USER", "LOGNAME", "USERNAME"} {
		if v := os.Getenv(k); v != "" {
			return v
		}
	}
	return ""
}

// options is ssh's Options for the keywords we read, filled as the passes
// go: set says which keywords already have their first value, which a later
// line never replaces, even when it was "no", 0 or "none".
type options struct {
	set            [kwCount]bool
	user           string
	hostName       string
	hostKeyAlias   string
	proxyCommand   string
	port           int
	idFiles        []string
	knownHosts     []string
	strict         string
	timeout        int
	identitiesOnly bool
	jump           *jumpSpec
	canon          int
	maxDots        int
	fallbackLocal  bool
	domains        []string
}

// resolution is one Lookup in progress: ssh's reading of the configuration
// for one destination, once, and again in a final pass if a Match final
// or canonicalisation asks for it.
type resolution struct {
	c         *Config
	o         options
	hostArg   string // what Host patterns match: the alias, then in the final pass the resolved host
	origHost  string // the alias as given (Match originalhost, %n)
	final     bool
	wantFinal bool
	// hostNameSet: the configuration set HostName (before the final pass
	// sets it to the resolved host, as ssh does).
	hostNameSet bool
	warnings    []string
}

// Lookup resolves the settings for alias as `ssh [-l user] [-p port] alias`
// would: Host and Match blocks, Includes, first value wins, the final pass
// that `Match final` and CanonicalizeHostname ask for, and ~ and %-tokens in
// paths. A `Match exec` command is run, as ssh runs it. An error is what
// would make ssh refuse to connect (a failing command, an unknown token).
func (c *Config) Lookup(alias string, preset Preset) (Host, error) {
	var h Host
	if c == nil {
		return h, nil
	}
	r := &resolution{c: c, hostArg: alias, origHost: alias}
	if preset.User != "" {
		r.o.user, r.o.set[kwUser] = preset.User, true
	}
	if preset.Port != 0 {
		r.o.port, r.o.set[kwPort] = preset.Port, true
	}
	if err := r.pass(); err != nil {
		return h, err
	}

	// The host ssh connects to: HostName with %h replaced by the alias,
	// or the alias; then lower-cased unless it is an address.
	host := alias
	if r.o.set[kwHostName] {
		v, err := expandPercent(r.o.hostName, map[byte]string{'h': alias}, false)
		if err != nil {
			return h, fmt.Errorf("HostName %q: %w", r.o.hostName, err)
		}
		host = v
	}
	wasAddr := isAddr(host)
	if !wasAddr {
		host = lowerASCII(host)
	}
	if r.o.set[kwCanonicalizeHostname] && r.o.canon != canonNo || wasAddr {
		var err error
		if host, err = r.canonicalize(host, wasAddr); err != nil {
			return h, err
		}
	}
	if r.o.set[kwCanonicalizeHostname] && r.o.canon != canonNo {
		r.wantFinal = true
	}
	r.hostNameSet = r.o.set[kwHostName]
	if r.wantFinal {
		r.o.hostName, r.o.set[kwHostName] = host, true
		r.hostArg, r.final = host, true
		if err := r.pass(); err != nil {
			return h, err
		}
	}
	return r.host(alias, host)
}

// pass reads every file once, as ssh's process_config_files does.
func (r *resolution) pass() error {
	for _, f := range r.c.files {
		active := true
		if err := r.walk(f, &active, false); err != nil {
			return err
		}
	}
	return nil
}

// walk evaluates one file's lines in order. active is whether settings now
// apply; never is set inside a file included from an inactive place, where
// no Host or Match line can make settings apply (ssh's NEVERMATCH).
func (r *resolution) walk(f *file, active *bool, never bool) error {
	for i := range f.lines {
		l := &f.lines[i]
		switch l.kw {
		case kwHost:
			*active = !never && matchHost(l.list, r.hostArg)
		case kwMatch:
			// Evaluated even where it cannot apply: ssh does too, and
			// runs the exec commands.
			m, err := r.evalMatch(l)
			if err != nil {
				return err
			}
			*active = !never && m
		case kwInclude:
			outer := *active
			for _, inc := range l.included {
				if err := r.walk(inc, active, never || !outer); err != nil {
					return err
				}
				// A Match or Host in the included file does not
				// change the including file's block.
				*active = outer
			}
		default:
			if *active {
				r.apply(l)
			}
		}
	}
	return nil
}

// apply records an applicable setting line, first value wins.
func (r *resolution) apply(l *line) {
	o := &r.o
	switch l.kw {
	case kwIdentityFile:
		// Every IdentityFile is kept, exact repeats once.
		if !slices.Contains(o.idFiles, l.str) {
			o.idFiles = append(o.idFiles, l.str)
		}
		return
	case kwConnectTimeout:
		if l.num < 0 {
			return // "ConnectTimeout none" leaves it unset for later lines
		}
	case kwProxyCommand:
		// ssh ignores a ProxyCommand once a ProxyJump is set.
		if o.set[kwProxyJump] {
			return
		}
	case kwProxyJump:
		// ... and a ProxyJump once a ProxyCommand is; a jump in turn
		// sets ProxyCommand to none.
		if o.set[kwProxyCommand] || o.set[kwProxyJump] {
			return
		}
		o.jump, o.set[kwProxyJump] = l.jump, true
		if !l.jump.none {
			o.proxyCommand, o.set[kwProxyCommand] = "none", true
		}
		return
	}
	if o.set[l.kw] {
		return
	}
	o.set[l.kw] = true
	switch l.kw {
	case kwHostName:
		o.hostName = l.str
	case kwUser:
		o.user = l.str
	case kwPort:
		o.port = l.num
	case kwHostKeyAlias:
		o.hostKeyAlias = l.str
	case kwProxyCommand:
		o.proxyCommand = l.str
	case kwUserKnownHostsFile:
		o.knownHosts = l.list
	case kwStrictHostKeyChecking:
		o.strict = l.str
	case kwConnectTimeout:
		o.timeout = l.num
	case kwIdentitiesOnly:
		o.identitiesOnly = l.flag
	case kwCanonicalizeHostname:
		o.canon = l.num
	case kwCanonicalizeMaxDots:
		o.maxDots = l.num
	case kwCanonicalizeFallbackLocal:
		o.fallbackLocal = l.flag
	case kwCanonicalDomains:
		o.domains = l.list
	}
}

func (r *resolution) remoteUser() string {
	if r.o.set[kwUser] {
		return r.o.user
	}
	return r.c.localUser
}

func (r *resolution) portOrDefault() int {
	if r.o.set[kwPort] {
		return r.o.port
	}
	return 22
}

// tokens are ssh's %-tokens for host (the host being connected to), except
// %k, which differs between Match exec and paths.
func (r *resolution) tokens(host string) map[byte]string {
	port := strconv.Itoa(r.portOrDefault())
	local, _ := os.Hostname()
	short, _, _ := strings.Cut(local, ".")
	sum := sha1.Sum([]byte(local + host + port + r.remoteUser()))
	return map[byte]string{
		'C': hex.EncodeToString(sum[:]),
		'L': short,
		'd': r.c.home,
		'h': host,
		'i': strconv.Itoa(os.Getuid()),
		'l': local,
		'n': r.origHost,
		'p': port,
		'r': r.remoteUser(),
		'u': r.c.localUser,
	}
}

// host turns the options into a Host, expanding paths as ssh does.
func (r *resolution) host(alias, host string) (Host, error) {
	o := &r.o
	h := Host{
		User:                  o.user,
		Port:                  o.port,
		StrictHostKeyChecking: o.strict,
		ConnectTimeout:        time.Duration(o.timeout) * time.Second,
		IdentitiesOnly:        o.identitiesOnly,
		ProxyJump:             o.jump.String(),
		Warnings:              r.warnings,
		rawIdentityFiles:      o.idFiles,
		connectTimeoutSet:     o.set[kwConnectTimeout],
	}
	if r.hostNameSet || host != lowerUnlessAddr(alias) {
		h.HostName = host
	}
	if o.set[kwProxyCommand] && !strings.EqualFold(o.proxyCommand, "none") {
		h.Warnings = append(h.Warnings, fmt.Sprintf("ProxyCommand %q applies to %s: mvorch cannot run it and connects directly (use ProxyJump)", o.proxyCommand, alias))
	}
	tokens := r.tokens(host)
	tokens['k'] = alias
	if o.set[kwHostKeyAlias] {
		tokens['k'] = o.hostKeyAlias
	}
	for _, f := range o.idFiles {
		// IdentityFile none is how a user says "no key files"; ssh
		// accepts it and skips it when loading keys.
		if strings.EqualFold(f, "none") {
			continue
		}
		v, err := expandPath(f, r.c.home, tokens)
		if err != nil {
			return h, fmt.Errorf("IdentityFile %q: %w", f, err)
		}
		h.IdentityFiles = append(h.IdentityFiles, v)
	}
	if len(o.knownHosts) == 1 && strings.EqualFold(o.knownHosts[0], "none") {
		h.UserKnownHostsFiles = []string{"none"}
	} else {
		for _, f := range o.knownHosts {
			v, err := expandPath(f, r.c.home, tokens)
			if err != nil {
				return h, fmt.Errorf("UserKnownHostsFile %q: %w", f, err)
			}
			h.UserKnownHostsFiles = append(h.UserKnownHostsFiles, v)
		}
	}
	return h, nil
}

// lowerASCII lower-cases like C's tolower in the C locale: ssh does not
// touch non-ASCII bytes, so neither do we.
func lowerASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
