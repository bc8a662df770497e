package sshconfig

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// maxIncludeDepth is OpenSSH's READCONF_MAX_DEPTH: the top-level file is
// depth 0 and a file may be included at most 16 levels down. Without a limit
// a file that includes itself would recurse forever.
const maxIncludeDepth = 16

type keyword int

const (
	kwHostName keyword = iota
	kwUser
	kwPort
	kwIdentityFile
	kwProxyJump
	kwUserKnownHostsFile
	kwStrictHostKeyChecking
	kwConnectTimeout
	kwIdentitiesOnly
	// Read because they change what the keywords above resolve to: %k,
	// whether ProxyJump counts, and the host name Match and Host see.
	kwHostKeyAlias
	kwProxyCommand
	kwCanonicalizeHostname
	kwCanonicalDomains
	kwCanonicalizeMaxDots
	kwCanonicalizeFallbackLocal
	kwCount // settings above; directives below

	kwHost
	kwMatch
	kwInclude
)

var keywordNames = map[keyword]string{
	kwHostName:                  "HostName",
	kwUser:                      "User",
	kwPort:                      "Port",
	kwIdentityFile:              "IdentityFile",
	kwProxyJump:                 "ProxyJump",
	kwUserKnownHostsFile:        "UserKnownHostsFile",
	kwStrictHostKeyChecking:     "StrictHostKeyChecking",
	kwConnectTimeout:            "ConnectTimeout",
	kwIdentitiesOnly:            "IdentitiesOnly",
	kwHostKeyAlias:              "HostKeyAlias",
	kwProxyCommand:              "ProxyCommand",
	kwCanonicalizeHostname:      "CanonicalizeHostname",
	kwCanonicalDomains:          "CanonicalDomains",
	kwCanonicalizeMaxDots:       "CanonicalizeMaxDots",
	kwCanonicalizeFallbackLocal: "CanonicalizeFallbackLocal",
	kwHost:                      "Host",
	kwMatch:                     "Match",
	kwInclude:                   "Include",
}

func (k keyword) String() string { return keywordNames[k] }

// keywords maps lower-cased keywords (they are case-insensitive) to their
// meaning. Anything else is ignored.
var keywords = map[string]keyword{
	"identityfile2": kwIdentityFile, // obsolete alias ssh still accepts
}

func init() {
	for k, name := range keywordNames {
		keywords[lowerASCII(name)] = k
	}
}

// strictValues is ssh's table for StrictHostKeyChecking (case-insensitive).
// "on" is not in it: ssh rejects it, so we do too.
var strictValues = map[string]string{
	"yes": "yes", "true": "yes",
	"no": "no", "false": "no", "off": "no",
	"ask":        "ask",
	"accept-new": "accept-new",
}

// canonValues is ssh's table for CanonicalizeHostname.
var canonValues = map[string]int{
	"yes": canonYes, "true": canonYes,
	"no": canonNo, "false": canonNo,
	"always": canonAlways,
}

const (
	canonNo = iota
	canonYes
	canonAlways
)

type position struct {
	file string
	line int
}

func (p position) String() string { return fmt.Sprintf("%s:%d", p.file, p.line) }

// file is one parsed configuration file: its lines in order.
type file struct {
	name  string
	lines []line
}

// line is one validated line that matters to mvorch: a setting, a Host or
// Match line, or an Include with the files it brought in. Lines are kept in
// file order and evaluated afresh for every alias, as ssh reads its files
// once per connection: a Match line's outcome depends on what the lines
// before it set (the user, the host name, the port) and on commands it runs.
type line struct {
	kw   keyword
	pos  position
	str  string   // HostName, User, IdentityFile, StrictHostKeyChecking, HostKeyAlias, ProxyCommand
	list []string // UserKnownHostsFile, CanonicalDomains, Host patterns
	num  int      // Port; ConnectTimeout seconds (-1 "none"); CanonicalizeHostname; CanonicalizeMaxDots
	flag bool     // IdentitiesOnly, CanonicalizeFallbackLocal

	jump     *jumpSpec   // ProxyJump
	match    []criterion // Match
	included []*file     // Include
}

// jumpSpec is a ProxyJump value as ssh keeps it: the last hop parsed, the
// hops before it as written, or none.
type jumpSpec struct {
	none  bool
	extra string // "a,b" of "a,b,c"
	user  string
	host  string
	port  int
}

// String is the jump list in the form `ssh -G` prints it.
func (j *jumpSpec) String() string {
	if j == nil || j.none {
		return ""
	}
	var b strings.Builder
	if j.extra != "" {
		b.WriteString(j.extra + ",")
	}
	if j.user != "" {
		b.WriteString(j.user + "@")
	}
	if strings.Contains(j.host, ":") || strings.Trim(j.host, "1234567890.") == "" {
		b.WriteString("[" + j.host + "]")
	} else {
		b.WriteString(j.host)
	}
	if j.port > 0 {
		b.WriteString(":" + strconv.Itoa(j.port))
	}
	return b.String()
}

type parser struct {
	cfg *Config
	// system: the system-wide file, whose relative Includes are under
	// /etc/ssh and which may not use ~.
	system bool
}

// parse reads one file.
func (p *parser) parse(r io.Reader, name string, depth int) (*file, error) {
	f := &file{name: name}
	br := bufio.NewReader(r) // not bufio.Scanner: ssh has no line length limit
	for n := 1; ; n++ {
		text, err := br.ReadString('\n')
		if text != "" {
			l, ok, perr := p.line(text, position{name, n}, depth)
			if perr != nil {
				return nil, perr
			}
			if ok {
				f.lines = append(f.lines, l)
			}
		}
		if errors.Is(err, io.EOF) {
			return f, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
	}
}

func (p *parser) line(raw string, pos position, depth int) (line, bool, error) {
	word, rest, ok := splitKeyword(raw)
	if !ok {
		return line{}, false, nil
	}
	kw, known := keywords[lowerASCII(word)]
	if !known {
		return line{}, false, nil // not ours: ssh's other options must not break mvorch
	}
	fail := func(format string, args ...any) error {
		return &ParseError{File: pos.file, Line: pos.line, Msg: fmt.Sprintf(format, args...)}
	}
	if rest == "" {
		return line{}, false, fail("%s: missing argument", kw)
	}
	l := line{kw: kw, pos: pos}

	switch kw {
	case kwProxyJump:
		j, err := parseJumpLine(rest)
		if err != nil {
			return l, false, fail("%v", err)
		}
		l.jump = j
		return l, true, nil
	case kwProxyCommand:
		// Like ProxyJump, the raw rest of the line.
		l.str = strings.TrimLeft(rest, " \t\r\n=")
		return l, true, nil
	case kwMatch:
		crit, err := parseMatch(rest)
		if err != nil {
			return l, false, fail("Match: %v", err)
		}
		l.match = crit
		return l, true, nil
	}

	args, ok := splitArgs(rest)
	if !ok {
		return l, false, fail("invalid quotes")
	}
	// single returns the one argument of a single-valued keyword; ssh
	// refuses both a missing value and trailing extra words.
	single := func() (string, error) {
		if len(args) == 0 || args[0] == "" {
			return "", fail("%s: missing argument", kw)
		}
		if len(args) > 1 {
			return "", fail("%s: extra arguments at end of line", kw)
		}
		return args[0], nil
	}
	var err error
	switch kw {
	case kwHost:
		for _, a := range args {
			if a == "" {
				return l, false, fail("Host: empty pattern")
			}
		}
		l.list = args

	case kwInclude:
		l.included, err = p.include(args, depth, fail)

	case kwPort:
		var v string
		if v, err = single(); err == nil {
			n, aerr := strconv.Atoi(v)
			if aerr != nil || n < 1 || n > 65535 {
				return l, false, fail("bad Port %q: must be a number from 1 to 65535", v)
			}
			l.num = n
		}

	case kwConnectTimeout:
		var v string
		if v, err = single(); err == nil {
			l.num = -1 // "none": ssh accepts it and leaves the option unset
			if v != "none" {
				if l.num, err = parseSeconds(v); err != nil {
					return l, false, fail("ConnectTimeout: invalid time value %q", v)
				}
			}
		}

	case kwCanonicalizeMaxDots:
		var v string
		if v, err = single(); err == nil {
			n, aerr := strconv.Atoi(v)
			if aerr != nil || n < 0 {
				return l, false, fail("CanonicalizeMaxDots: bad number %q", v)
			}
			l.num = n
		}

	case kwStrictHostKeyChecking:
		var v string
		if v, err = single(); err == nil {
			norm, ok := strictValues[lowerASCII(v)]
			if !ok {
				return l, false, fail("StrictHostKeyChecking: unsupported value %q (want yes, no, ask, accept-new)", v)
			}
			l.str = norm
		}

	case kwCanonicalizeHostname:
		var v string
		if v, err = single(); err == nil {
			n, ok := canonValues[lowerASCII(v)]
			if !ok {
				return l, false, fail("CanonicalizeHostname: unsupported value %q (want yes, no, always)", v)
			}
			l.num = n
		}

	case kwIdentitiesOnly, kwCanonicalizeFallbackLocal:
		var v string
		if v, err = single(); err == nil {
			switch lowerASCII(v) {
			case "yes", "true":
				l.flag = true
			case "no", "false":
			default:
				return l, false, fail("%s: unsupported value %q (want yes or no)", kw, v)
			}
		}

	case kwUserKnownHostsFile, kwCanonicalDomains:
		if len(args) == 0 {
			return l, false, fail("%s: missing argument", kw)
		}
		for i, a := range args {
			if a == "" {
				return l, false, fail("%s: empty argument", kw)
			}
			if kw == kwUserKnownHostsFile && strings.EqualFold(a, "none") && (i > 0 || len(args) > 1) {
				return l, false, fail(`%s: "none" must appear alone`, kw)
			}
		}
		l.list = args

	default: // HostName, User, IdentityFile, HostKeyAlias: one string each
		l.str, err = single()
	}
	return l, err == nil, err
}

// parseJumpLine reads a ProxyJump value as ssh's parse_jump does: ssh takes
// the raw rest of the line rather than split arguments, so a '#' anywhere
// starts a comment and quotes are not removed; "none" is compared before the
// comment is cut. Only the last hop is kept parsed (it is the one ssh dials
// itself); every hop must be valid.
func parseJumpLine(rest string) (*jumpSpec, error) {
	raw := strings.TrimLeft(rest, " \t\r\n=")
	if strings.EqualFold(raw, "none") {
		return &jumpSpec{none: true}, nil
	}
	v, _, _ := strings.Cut(raw, "#")
	v = strings.TrimRight(v, " \t\r\n")
	if v == "" {
		return nil, errors.New("ProxyJump: missing argument")
	}
	hops := strings.Split(v, ",")
	j := &jumpSpec{}
	for i, hop := range hops {
		user, host, port, err := parseHop(hop)
		if err != nil {
			return nil, fmt.Errorf("invalid ProxyJump %q: %v", v, err)
		}
		if i == len(hops)-1 {
			j.user, j.host, j.port = user, host, port
		}
	}
	if i := strings.LastIndexByte(v, ','); i > 0 {
		j.extra = v[:i]
	}
	return j, nil
}

// parseHop is ssh's parse_ssh_uri and parse_user_host_port for one jump:
// ssh://[user@]host[:port] or [user@]host[:port], host possibly in [].
func parseHop(hop string) (user, host string, port int, err error) {
	s := hop
	uri := false
	if rest, ok := strings.CutPrefix(s, "ssh://"); ok {
		s, uri = strings.TrimSuffix(rest, "/"), true
	}
	if i := strings.LastIndexByte(s, '@'); i >= 0 {
		if i == 0 {
			return "", "", 0, fmt.Errorf("empty user in %q", hop)
		}
		user, s = s[:i], s[i+1:]
	}
	var portStr string
	if strings.HasPrefix(s, "[") {
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return "", "", 0, fmt.Errorf("no ] in %q", hop)
		}
		host, s = s[1:end], s[end+1:]
		if s != "" {
			var ok bool
			if portStr, ok = strings.CutPrefix(s, ":"); !ok {
				return "", "", 0, fmt.Errorf("bad host %q", hop)
			}
		}
	} else {
		host, portStr, _ = strings.Cut(s, ":")
	}
	if host == "" || strings.ContainsAny(host, " \t") || (uri && strings.Contains(host, "/")) {
		return "", "", 0, fmt.Errorf("bad host in %q", hop)
	}
	if portStr != "" {
		if port, err = strconv.Atoi(portStr); err != nil || port < 1 || port > 65535 {
			return "", "", 0, fmt.Errorf("bad port in %q", hop)
		}
	}
	return user, host, port, nil
}

// include reads the files named by an Include line (several glob patterns).
func (p *parser) include(args []string, depth int, fail func(string, ...any) error) ([]*file, error) {
	if len(args) == 0 {
		return nil, fail("Include: missing argument")
	}
	var files []*file
	for _, arg := range args {
		if arg == "" {
			return nil, fail("Include: empty argument")
		}
		pattern := arg
		switch {
		case p.system && strings.HasPrefix(pattern, "~"):
			return nil, fail("Include: bad include path %s (~ is for user configurations)", arg)
		case p.system && !filepath.IsAbs(pattern):
			pattern = filepath.Join(systemDir, pattern)
		case !strings.HasPrefix(pattern, "~") && !filepath.IsAbs(pattern):
			// A user config's relative Include is relative to ~/.ssh,
			// not to the current directory or the including file.
			pattern = "~/.ssh/" + pattern
		}
		pattern = expandTildeGlob(pattern, p.cfg.globHome)
		paths, err := globSorted(pattern)
		if err != nil {
			return nil, fail("Include %s: %v", arg, err)
		}
		// No match is fine (ssh only logs it): `Include config.d/*`
		// with an empty directory is common.
		for _, path := range paths {
			if depth+1 > maxIncludeDepth {
				return nil, fail("Include %s: includes nested more than %d deep (does a file include itself?)", path, maxIncludeDepth)
			}
			f, err := p.includeFile(path, depth+1)
			if err != nil {
				if _, ok := err.(*ParseError); ok {
					return nil, err // already names its own file and line
				}
				return nil, fail("Include %s: %v", path, err)
			}
			if f != nil {
				files = append(files, f)
			}
		}
	}
	return files, nil
}

func (p *parser) includeFile(path string, depth int) (*file, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil // vanished since the glob
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil {
		return nil, err
	} else if fi.IsDir() {
		// A directory matched by config.d/* holds no settings; ssh
		// reads nothing from it either.
		return nil, nil
	}
	if err := checkPerms(f, path); err != nil {
		return nil, err
	}
	return p.parse(f, path, depth)
}

// splitKeyword splits a line into its keyword and the rest, the way ssh's
// strdelim does: the keyword ends at whitespace or '=', and one '=' with
// any whitespace around it separates it from the value, so "Port 22",
// "Port=22" and "Port = 22" are the same. ok is false for a blank line or a
// comment line.
func splitKeyword(line string) (word, rest string, ok bool) {
	const space = " \t\r\n"
	s := strings.Trim(strings.TrimRight(line, space+"\f"), space)
	if s == "" || s[0] == '#' {
		return "", "", false
	}
	i := strings.IndexAny(s, space+"=")
	if i < 0 {
		return s, "", true
	}
	word, rest = s[:i], strings.TrimLeft(s[i+1:], space)
	if s[i] != '=' && strings.HasPrefix(rest, "=") {
		rest = strings.TrimLeft(rest[1:], space)
	}
	return word, rest, true
}

// splitArgs splits a value into arguments like ssh's argv_split: arguments
// are separated by spaces or tabs; single or double quotes group (and may
// start mid-argument); a backslash escapes a quote, a backslash, or outside
// quotes a space; a '#' at the start of an argument ends the line, so
// "User bob # admin" is a comment but "User bob#1" is not. ok is false for
// an unterminated quote.
func splitArgs(s string) (args []string, ok bool) {
	i := 0
	for i < len(s) {
		if s[i] == ' ' || s[i] == '\t' {
			i++
			continue
		}
		if s[i] == '#' {
			break
		}
		var b strings.Builder
		var quote byte
	token:
		for ; i < len(s); i++ {
			c := s[i]
			switch {
			case c == '\\' && i+1 < len(s) && (s[i+1] == '\'' || s[i+1] == '"' || s[i+1] == '\\' || (quote == 0 && s[i+1] == ' ')):
				i++
				b.WriteByte(s[i])
			case quote == 0 && (c == ' ' || c == '\t'):
				break token
			case quote == 0 && (c == '"' || c == '\''):
				quote = c
			case quote != 0 && c == quote:
				quote = 0
			default:
				b.WriteByte(c)
			}
		}
		if quote != 0 {
			return nil, false
		}
		args = append(args, b.String())
	}
	return args, true
}

// parseSeconds reads an ssh time value (ssh's convtime): a sequence of
// numbers each with an optional unit s, m, h, d or w (either case), summed;
// a bare number is seconds. "90", "1m30s" and "1h" are valid.
func parseSeconds(v string) (int, error) {
	const maxInt32 = 1<<31 - 1
	if v == "" {
		return 0, errors.New("empty")
	}
	total := 0
	for v != "" {
		digits := len(v) - len(strings.TrimLeft(v, "0123456789"))
		if digits == 0 {
			return 0, errors.New("expected a number")
		}
		n, err := strconv.Atoi(v[:digits])
		if err != nil || n > maxInt32 {
			return 0, errors.New("out of range")
		}
		v = v[digits:]
		mult := 1
		if v != "" {
			switch v[0] {
			case 's', 'S':
			case 'm', 'M':
				mult = 60
			case 'h', 'H':
				mult = 60 * 60
			case 'd', 'D':
				mult = 24 * 60 * 60
			case 'w', 'W':
				mult = 7 * 24 * 60 * 60
			default:
				return 0, fmt.Errorf("unknown unit %q", v[0])
			}
			v = v[1:]
		}
		if n > maxInt32/mult || total > maxInt32-n*mult {
			return 0, errors.New("out of range")
		}
		total += n * mult
	}
	return total, nil
}

// globSorted is filepath.Glob made to behave like the glob(3) ssh uses: the
// matches are sorted as whole paths (filepath.Glob sorts one directory at a
// time), and a wildcard does not match a leading '.' in a name (filepath.Glob
// would pull editor backups like .host.conf.swp into `Include config.d/*`).
func globSorted(pattern string) ([]string, error) {
	pattern = filepath.Clean(pattern)
	matches, err := filepath.Glob(pattern)
	if err != nil {
		return nil, err
	}
	pparts := strings.Split(filepath.ToSlash(pattern), "/")
	kept := matches[:0]
	for _, m := range matches {
		mparts := strings.Split(filepath.ToSlash(m), "/")
		hidden := false
		for i := 0; i < len(mparts) && i < len(pparts); i++ {
			if strings.HasPrefix(mparts[i], ".") && !strings.HasPrefix(pparts[i], ".") {
				hidden = true
				break
			}
		}
		if !hidden {
			kept = append(kept, m)
		}
	}
	slices.Sort(kept)
	return kept, nil
}
