// Package sshconfig reads the user's OpenSSH client configuration
// (ssh_config(5)) so that mvorch reaches a host the way `ssh alias` would.
//
// Only the keywords mvorch acts on are interpreted: Host, Match, Include,
// HostName, User, Port, IdentityFile, ProxyJump, UserKnownHostsFile,
// StrictHostKeyChecking, ConnectTimeout and IdentitiesOnly. Every other
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
//     matches the alias exactly as given, case-sensitively, and no !negated
//     pattern matches. Patterns are separated by whitespace only: a comma is
//     an ordinary character in a Host pattern (commas separate only Match
//     pattern-lists), so `Host a,b` matches neither a nor b, as with ssh.
//   - Include inlines files at its position, but conditionally: what an
//     included file says is in force only where the Include line itself was,
//     a Host line inside it narrows that further, and the including file
//     resumes in the block it was in once the Include is done.
//   - Match is not implemented: a Match block never applies, and Lookup
//     reports a warning so that the user learns why.
package sshconfig

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/user"
	"strconv"
	"strings"
	"time"
)

// Config is a parsed client configuration: every applicable line in file
// order, with the Host/Match/Include context it was read in. It is read-only
// after Load or Parse, so Lookup may be called from several goroutines.
type Config struct {
	entries  []entry
	warnings []string // parse-time warnings, reported by every Lookup
	home     string   // %d, ~ and relative Includes

	// localUser is %u, and %r when no User applies (ssh logs in as the
	// local user by default). Set once by Parse; tests override it.
	localUser string
}

// Host is what the configuration says about one alias. Zero values mean the
// configuration does not set the keyword; callers apply their own defaults.
type Host struct {
	// HostName is the real host name (HostName with %h and %% expanded,
	// lower-cased unless it is an address, as ssh does before connecting),
	// or "" if HostName is not set.
	HostName string
	User     string // "" if not set
	Port     int    // 0 if not set

	// IdentityFiles holds every applicable IdentityFile in order, without
	// duplicates and without "none", with ~, %-tokens and ${ENV} expanded.
	IdentityFiles []string

	// ProxyJump is the jump list as written ("user@bastion:2222,other"),
	// or "" if it is not set or the first one obtained was "none".
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

	// Warnings lists what mvorch could not honour, "file:line: why", e.g.
	// a Match block, or a %-token it does not know (ssh would refuse those).
	Warnings []string
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
// the user's home directory: ~ and %d expand to it and relative Include
// paths are relative to home/.ssh; "" means os.UserHomeDir().
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

// Parse reads a configuration from r; name is the file name that errors and
// warnings give ("name:line: ..."). home is as for Load. r itself is not
// permission-checked, but files it Includes are.
func Parse(r io.Reader, name, home string) (*Config, error) {
	c := newConfig(home)
	p := &parser{cfg: c}
	if err := p.parse(r, name, 0, nil); err != nil {
		return nil, err
	}
	return c, nil
}

func newConfig(home string) *Config {
	if home == "" {
		home, _ = os.UserHomeDir()
	}
	return &Config{home: home, localUser: currentUsername()}
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

// Lookup resolves the settings for alias as `ssh alias` would, without
// command-line overrides: %r in paths is the configured User, or the local
// user when none applies, since that is who ssh logs in as.
func (c *Config) Lookup(alias string) Host {
	var h Host
	if c == nil {
		return h
	}
	h.Warnings = append([]string(nil), c.warnings...)

	// set records which keywords already have their first value: a later
	// value never replaces it, even when the first was "no", 0 or "none".
	var set [kwCount]bool
	var (
		hostName       *entry
		jump           string
		idFiles        []*entry
		seenID         = map[string]bool{}
		knownHosts     *entry
		timeoutSeconds int
	)
	for i := range c.entries {
		e := &c.entries[i]
		if !e.guard.matches(alias) {
			continue
		}
		if e.kw == kwIdentityFile {
			// ssh keeps every IdentityFile but drops exact repeats of
			// the unexpanded text (a key listed in two blocks is tried
			// once).
			if !seenID[e.str] {
				seenID[e.str] = true
				idFiles = append(idFiles, e)
			}
			continue
		}
		if e.kw == kwConnectTimeout && e.num < 0 {
			continue // "ConnectTimeout none" leaves it unset for later lines
		}
		if set[e.kw] {
			continue
		}
		set[e.kw] = true
		switch e.kw {
		case kwHostName:
			hostName = e
		case kwUser:
			h.User = e.str
		case kwPort:
			h.Port = e.num
		case kwProxyJump:
			jump = e.str
		case kwUserKnownHostsFile:
			knownHosts = e
		case kwStrictHostKeyChecking:
			h.StrictHostKeyChecking = e.str
		case kwConnectTimeout:
			timeoutSeconds = e.num
		case kwIdentitiesOnly:
			h.IdentitiesOnly = e.flag
		}
	}
	if !strings.EqualFold(jump, "none") {
		h.ProxyJump = jump
	}
	h.ConnectTimeout = time.Duration(timeoutSeconds) * time.Second

	// The host ssh connects to: HostName with %h replaced by the alias,
	// or the alias; then lower-cased unless it is an address. %h in paths
	// is this value, not the raw HostName.
	host := alias
	if hostName != nil {
		v, err := expandPercent(hostName.str, map[byte]string{'h': alias}, false)
		if err != nil {
			h.Warnings = append(h.Warnings, fmt.Sprintf("%s: HostName %q: %v; used as written", hostName.pos, hostName.str, err))
			v = hostName.str
		}
		host = v
	}
	if !looksLikeAddress(host) {
		host = lowerASCII(host)
	}
	if hostName != nil {
		h.HostName = host
	}

	if len(idFiles) == 0 && knownHosts == nil {
		return h
	}
	remoteUser := h.User
	if remoteUser == "" {
		remoteUser = c.localUser
	}
	port := h.Port
	if port == 0 {
		port = 22
	}
	tokens := map[byte]string{
		'd': c.home,
		'h': host,
		'i': strconv.Itoa(os.Getuid()),
		'n': alias,
		'p': strconv.Itoa(port),
		'r': remoteUser,
		'u': c.localUser,
	}
	if local, err := os.Hostname(); err == nil {
		tokens['l'] = local
		tokens['L'], _, _ = strings.Cut(local, ".")
	}
	expand := func(e *entry, raw string) string {
		v, err := expandPath(raw, c.home, tokens)
		if err != nil {
			h.Warnings = append(h.Warnings, fmt.Sprintf("%s: %s %q: %v; left unexpanded", e.pos, e.kw, raw, err))
		}
		return v
	}
	for _, e := range idFiles {
		// IdentityFile none is how a user says "no key files"; ssh
		// accepts it and skips it when loading keys.
		if strings.EqualFold(e.str, "none") {
			continue
		}
		h.IdentityFiles = append(h.IdentityFiles, expand(e, e.str))
	}
	if knownHosts != nil {
		if len(knownHosts.list) == 1 && strings.EqualFold(knownHosts.list[0], "none") {
			h.UserKnownHostsFiles = []string{"none"}
		} else {
			for _, f := range knownHosts.list {
				h.UserKnownHostsFiles = append(h.UserKnownHostsFiles, expand(knownHosts, f))
			}
		}
	}
	return h
}

// looksLikeAddress reports whether ssh would treat name as an address and
// so leave its case alone (ssh.c's is_addr_fast, plus IPv4 literals).
func looksLikeAddress(name string) bool {
	return strings.ContainsAny(name, "%:") || strings.Trim(name, "0123456789.") == ""
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
