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
	kwCount // settings above; directives below

	kwHost
	kwMatch
	kwInclude
)

var keywordNames = map[keyword]string{
	kwHostName:              "HostName",
	kwUser:                  "User",
	kwPort:                  "Port",
	kwIdentityFile:          "IdentityFile",
	kwProxyJump:             "ProxyJump",
	kwUserKnownHostsFile:    "UserKnownHostsFile",
	kwStrictHostKeyChecking: "StrictHostKeyChecking",
	kwConnectTimeout:        "ConnectTimeout",
	kwIdentitiesOnly:        "IdentitiesOnly",
	kwHost:                  "Host",
	kwMatch:                 "Match",
	kwInclude:               "Include",
}

func (k keyword) String() string { return keywordNames[k] }

// keywords maps lower-cased keywords (they are case-insensitive) to their
// meaning. Anything else is ignored.
var keywords = map[string]keyword{
	"hostname":              kwHostName,
	"user":                  kwUser,
	"port":                  kwPort,
	"identityfile":          kwIdentityFile,
	"identityfile2":         kwIdentityFile, // obsolete alias ssh still accepts
	"proxyjump":             kwProxyJump,
	"userknownhostsfile":    kwUserKnownHostsFile,
	"stricthostkeychecking": kwStrictHostKeyChecking,
	"connecttimeout":        kwConnectTimeout,
	"identitiesonly":        kwIdentitiesOnly,
	"host":                  kwHost,
	"match":                 kwMatch,
	"include":               kwInclude,
}

// strictValues is ssh's table for StrictHostKeyChecking (case-insensitive).
// "on" is not in it: ssh rejects it, so we do too.
var strictValues = map[string]string{
	"yes": "yes", "true": "yes",
	"no": "no", "false": "no", "off": "no",
	"ask":        "ask",
	"accept-new": "accept-new",
}

type position struct {
	file string
	line int
}

func (p position) String() string { return fmt.Sprintf("%s:%d", p.file, p.line) }

// entry is one setting line, already validated, with the guard that decides
// whether it applies to an alias.
type entry struct {
	kw    keyword
	guard *guard
	pos   position
	str   string   // HostName, User, ProxyJump, IdentityFile, StrictHostKeyChecking
	list  []string // UserKnownHostsFile
	num   int      // Port; ConnectTimeout seconds, -1 for "none"
	flag  bool     // IdentitiesOnly
}

// guard is the condition a line was read under: the Host (or Match) line
// that opened its block, and, through parent, the block its file was
// included from. A nil guard is the top of the main file (before any Host
// line), which applies to every alias: the implicit `Host *`.
//
// Keeping the Include context as a parent, instead of flattening included
// lines into the including file, is what makes an Include inside a Host
// block conditional on that block even when the included file has Host lines
// of its own, and lets the including file resume in its own block after the
// Include, both as in ssh.
type guard struct {
	parent   *guard
	never    bool     // a Match block: unsupported, so it never applies
	patterns []string // Host patterns, "!" prefix for negation
}

func (g *guard) matches(alias string) bool {
	for ; g != nil; g = g.parent {
		if g.never || !matchHost(g.patterns, alias) {
			return false
		}
	}
	return true
}

// matchHost applies one Host line: some pattern must match and no negated
// pattern may. A line of only negations therefore matches nothing, as in ssh.
func matchHost(patterns []string, alias string) bool {
	matched := false
	for _, p := range patterns {
		if neg, ok := strings.CutPrefix(p, "!"); ok {
			if matchPattern(alias, neg) {
				return false
			}
		} else if matchPattern(alias, p) {
			matched = true
		}
	}
	return matched
}

// matchPattern is ssh's match_pattern: the whole of s against pattern, where
// * matches any run of bytes (also none) and ? any one byte; case matters.
func matchPattern(s, pattern string) bool {
	si, pi := 0, 0
	star, resume := -1, 0 // last * seen in pattern, and where s resumes after it
	for si < len(s) {
		switch {
		case pi < len(pattern) && pattern[pi] == '*':
			star, resume = pi, si
			pi++
		case pi < len(pattern) && (pattern[pi] == '?' || pattern[pi] == s[si]):
			si++
			pi++
		case star >= 0:
			// Let the last * swallow one more byte and retry; earlier
			// stars never need to change (classic wildcard backtracking).
			resume++
			si, pi = resume, star+1
		default:
			return false
		}
	}
	for pi < len(pattern) && pattern[pi] == '*' {
		pi++
	}
	return pi == len(pattern)
}

type parser struct {
	cfg *Config
}

// parse reads one file. outer is the guard in force at the Include line that
// brought this file in (nil for the main file); lines before the file's
// first Host line run under it.
func (p *parser) parse(r io.Reader, name string, depth int, outer *guard) error {
	br := bufio.NewReader(r) // not bufio.Scanner: ssh has no line length limit
	cur := outer
	for n := 1; ; n++ {
		line, err := br.ReadString('\n')
		if line != "" {
			if perr := p.line(line, position{name, n}, depth, outer, &cur); perr != nil {
				return perr
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
}

func (p *parser) line(raw string, pos position, depth int, outer *guard, cur **guard) error {
	word, rest, ok := splitKeyword(raw)
	if !ok {
		return nil
	}
	kw, known := keywords[lowerASCII(word)]
	if !known {
		return nil // not ours: ssh's other options must not break mvorch
	}
	fail := func(format string, args ...any) error {
		return &ParseError{File: pos.file, Line: pos.line, Msg: fmt.Sprintf(format, args...)}
	}
	if rest == "" {
		return fail("%s: missing argument", kw)
	}

	if kw == kwProxyJump {
		// ssh hands ProxyJump the raw rest of the line rather than
		// split arguments: a '#' anywhere starts a comment and quotes
		// are not removed.
		v, _, _ := strings.Cut(strings.TrimLeft(rest, " \t\r\n="), "#")
		v = strings.TrimRight(v, " \t\r\n")
		if v == "" {
			return fail("ProxyJump: missing argument")
		}
		if !strings.EqualFold(v, "none") {
			for hop := range strings.SplitSeq(v, ",") {
				if hop == "" || strings.ContainsAny(hop, " \t") {
					return fail("invalid ProxyJump %q", v)
				}
			}
		}
		p.add(entry{kw: kw, guard: *cur, pos: pos, str: v})
		return nil
	}

	args, ok := splitArgs(rest)
	if !ok {
		return fail("invalid quotes")
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

	switch kw {
	case kwHost:
		for _, a := range args {
			if a == "" {
				return fail("Host: empty pattern")
			}
		}
		*cur = &guard{parent: outer, patterns: args}
		return nil

	case kwMatch:
		*cur = &guard{parent: outer, never: true}
		p.cfg.warnings = append(p.cfg.warnings, fmt.Sprintf("%s: Match blocks are not supported; ignored", pos))
		return nil

	case kwInclude:
		return p.include(args, pos, depth, *cur, fail)

	case kwPort:
		v, err := single()
		if err != nil {
			return err
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 65535 {
			return fail("bad Port %q: must be a number from 1 to 65535", v)
		}
		p.add(entry{kw: kw, guard: *cur, pos: pos, num: n})

	case kwConnectTimeout:
		v, err := single()
		if err != nil {
			return err
		}
		secs := -1 // "none": ssh accepts it and leaves the option unset
		if v != "none" {
			if secs, err = parseSeconds(v); err != nil {
				return fail("ConnectTimeout: invalid time value %q", v)
			}
		}
		p.add(entry{kw: kw, guard: *cur, pos: pos, num: secs})

	case kwStrictHostKeyChecking:
		v, err := single()
		if err != nil {
			return err
		}
		norm, ok := strictValues[lowerASCII(v)]
		if !ok {
			return fail("StrictHostKeyChecking: unsupported value %q (want yes, no, ask, accept-new)", v)
		}
		p.add(entry{kw: kw, guard: *cur, pos: pos, str: norm})

	case kwIdentitiesOnly:
		v, err := single()
		if err != nil {
			return err
		}
		var b bool
		switch lowerASCII(v) {
		case "yes", "true":
			b = true
		case "no", "false":
		default:
			return fail("IdentitiesOnly: unsupported value %q (want yes or no)", v)
		}
		p.add(entry{kw: kw, guard: *cur, pos: pos, flag: b})

	case kwUserKnownHostsFile:
		if len(args) == 0 {
			return fail("%s: missing argument", kw)
		}
		for i, a := range args {
			if a == "" {
				return fail("%s: empty argument", kw)
			}
			if strings.EqualFold(a, "none") && (i > 0 || len(args) > 1) {
				return fail(`%s: "none" must appear alone`, kw)
			}
		}
		p.add(entry{kw: kw, guard: *cur, pos: pos, list: args})

	default: // HostName, User, IdentityFile: one string each
		v, err := single()
		if err != nil {
			return err
		}
		p.add(entry{kw: kw, guard: *cur, pos: pos, str: v})
	}
	return nil
}

func (p *parser) add(e entry) { p.cfg.entries = append(p.cfg.entries, e) }

// include reads the files named by an Include line (several glob patterns)
// in place, under the guard g of the block the Include line is in.
func (p *parser) include(args []string, pos position, depth int, g *guard, fail func(string, ...any) error) error {
	if len(args) == 0 {
		return fail("Include: missing argument")
	}
	for _, arg := range args {
		if arg == "" {
			return fail("Include: empty argument")
		}
		pattern := arg
		if !strings.HasPrefix(pattern, "~") && !filepath.IsAbs(pattern) {
			// A user config's relative Include is relative to ~/.ssh,
			// not to the current directory or the including file.
			pattern = filepath.Join(p.cfg.home, ".ssh", pattern)
		}
		pattern = expandTildeGlob(pattern, p.cfg.home)
		paths, err := globSorted(pattern)
		if err != nil {
			return fail("Include %s: %v", arg, err)
		}
		// No match is fine (ssh only logs it): `Include config.d/*`
		// with an empty directory is common.
		for _, path := range paths {
			if depth+1 > maxIncludeDepth {
				return fail("Include %s: includes nested more than %d deep (does a file include itself?)", path, maxIncludeDepth)
			}
			if err := p.includeFile(path, depth+1, g); err != nil {
				if _, ok := err.(*ParseError); ok {
					return err // already names its own file and line
				}
				return fail("Include %s: %v", path, err)
			}
		}
	}
	return nil
}

func (p *parser) includeFile(path string, depth int, g *guard) error {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil // vanished since the glob
	}
	if err != nil {
		return err
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil {
		return err
	} else if fi.IsDir() {
		// A directory matched by config.d/* holds no settings; ssh
		// reads nothing from it either.
		return nil
	}
	if err := checkPerms(f, path); err != nil {
		return err
	}
	return p.parse(f, path, depth, g)
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
