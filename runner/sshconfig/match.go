package sshconfig

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
)

// criterion is one attribute of a Match line: "all", "canonical", "final"
// (no argument) or "host", "originalhost", "user", "localuser", "exec" with
// their argument, possibly negated with '!'.
type criterion struct {
	name   string // lower-cased
	negate bool
	arg    string
}

// parseMatch reads the rest of a Match line the way ssh's match_cfg_line
// splits it (strdelim: whitespace, one '=', double quotes), and refuses what
// ssh refuses: an unknown attribute, a missing argument, "all" combined with
// other attributes, or no attribute at all.
func parseMatch(rest string) ([]criterion, error) {
	d := delimiter{s: rest}
	var crit []criterion
	attributes := 0
	for {
		attrib, ok := d.next()
		if !ok || attrib == "" || attrib[0] == '#' {
			break
		}
		c := criterion{name: lowerASCII(attrib)}
		if c.name[0] == '!' {
			c.negate, c.name = true, c.name[1:]
		}
		if c.name == "all" {
			// ssh's test lets "all" follow one other attribute.
			if next, ok := d.next(); attributes > 1 || ok && next != "" && next[0] != '#' {
				return nil, fmt.Errorf("'%s' cannot be combined with other Match attributes", attrib)
			}
			return append(crit, c), nil
		}
		attributes++
		switch c.name {
		case "canonical", "final":
			crit = append(crit, c)
			continue
		case "host", "originalhost", "user", "localuser", "exec":
		default:
			return nil, fmt.Errorf("unsupported attribute %q (mvorch knows all, canonical, final, exec, host, originalhost, user, localuser)", attrib)
		}
		arg, ok := d.next()
		if !ok || arg == "" || arg[0] == '#' {
			return nil, fmt.Errorf("missing criteria for %s", attrib)
		}
		c.arg = arg
		crit = append(crit, c)
	}
	if attributes == 0 {
		return nil, errors.New("one or more attributes required")
	}
	return crit, nil
}

// delimiter is ssh's strdelim over a string: tokens end at whitespace, a
// double quote groups, and one '=' may separate two tokens.
type delimiter struct {
	s    string
	done bool
}

func (d *delimiter) next() (string, bool) {
	const space = " \t\r\n"
	if d.done {
		return "", false
	}
	i := strings.IndexAny(d.s, space+`"=`)
	if i < 0 {
		d.done = true
		return d.s, true
	}
	if d.s[i] == '"' {
		rest := d.s[:i] + d.s[i+1:]
		j := strings.IndexByte(rest[i:], '"')
		if j < 0 {
			d.done = true
			return "", false // no matching quote
		}
		j += i
		d.s = strings.TrimLeft(rest[j+1:], space)
		return rest[:j], true
	}
	tok, sawEquals := d.s[:i], d.s[i] == '='
	d.s = strings.TrimLeft(d.s[i+1:], space)
	if !sawEquals && strings.HasPrefix(d.s, "=") {
		d.s = strings.TrimLeft(d.s[1:], space)
	}
	return tok, true
}

// evalMatch decides a Match line for the pass in progress, with what the
// lines before it have set, exactly as ssh's match_cfg_line: every attribute
// must hold; an exec command runs only while all before it held.
func (r *resolution) evalMatch(l *line) (bool, error) {
	host := r.hostArg
	switch {
	case r.final:
		host = r.o.hostName
	case r.o.set[kwHostName]:
		h, err := expandPercent(r.o.hostName, map[byte]string{'h': r.hostArg}, false)
		if err != nil {
			return false, fmt.Errorf("%s: HostName %q: %w", l.pos, r.o.hostName, err)
		}
		host = h
	}
	result := true
	for _, c := range l.match {
		var m bool
		switch c.name {
		case "all":
			if result {
				result = !c.negate
			}
			return result, nil
		case "canonical", "final":
			if c.name == "final" {
				r.wantFinal = true
			}
			m = r.final
		case "host":
			m = matchPatternList(lowerASCII(host), c.arg, true) == 1
		case "originalhost":
			m = matchPatternList(lowerASCII(r.origHost), c.arg, true) == 1
		case "user":
			m = matchPatternList(r.remoteUser(), c.arg, false) == 1
		case "localuser":
			m = matchPatternList(r.c.localUser, c.arg, false) == 1
		case "exec":
			if !result {
				continue // ssh skips the command once the line cannot match
			}
			tokens := r.tokens(host)
			tokens['k'] = host
			if r.o.set[kwHostKeyAlias] {
				tokens['k'] = r.o.hostKeyAlias
			}
			cmd, err := expandPercent(c.arg, tokens, false)
			if err != nil {
				return false, fmt.Errorf("%s: Match exec %q: %w", l.pos, c.arg, err)
			}
			status, err := runMatchExec(cmd)
			if err != nil {
				return false, fmt.Errorf("%s: Match exec %q: %w", l.pos, cmd, err)
			}
			m = status == 0
		}
		if m == c.negate {
			result = false
		}
	}
	return result, nil
}

// runMatchExec runs cmd as ssh does for `Match exec`: with $SHELL (or
// /bin/sh) -c, standard input and output on /dev/null, standard error
// passed through. It returns the exit status; a command killed by a signal
// is an error, as it is fatal to ssh.
func runMatchExec(cmd string) (int, error) {
	shell := os.Getenv("SHELL")
	if shell == "" {
		shell = "/bin/sh"
	}
	if err := syscall.Access(shell, 1 /* X_OK */); err != nil {
		return 0, fmt.Errorf("shell %q is not executable: %w", shell, err)
	}
	c := exec.Command(shell, "-c", cmd)
	c.Stderr = os.Stderr
	err := c.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0, nil
	case errors.As(err, &exit) && exit.Exited():
		return exit.ExitCode(), nil
	case errors.As(err, &exit):
		return 0, fmt.Errorf("command exited abnormally: %w", err)
	default:
		return 0, err
	}
}

// matchPatternList is ssh's match_pattern_list: patterns separated by
// commas, '!' negates; 1 if a pattern matches and no negated one does, -1 if
// a negated one matches, else 0. With lower, patterns are lower-cased (ssh
// does so for host names, whose candidate is lower-cased by the caller).
func matchPatternList(s, list string, lower bool) int {
	got := 0
	for sub := range strings.SplitSeq(list, ",") {
		neg := strings.HasPrefix(sub, "!")
		if neg {
			sub = sub[1:]
		}
		if len(sub) >= 1023 {
			return 0 // ssh gives up on a pattern too long for its buffer
		}
		if lower {
			sub = lowerASCII(sub)
		}
		if matchPattern(s, sub) {
			if neg {
				return -1
			}
			got = 1
		}
	}
	return got
}

// matchHost applies one Host line: some pattern must match and no negated
// pattern may. A line of only negations therefore matches nothing, as in ssh.
// Unlike Match host, this is case-sensitive and commas are ordinary.
func matchHost(patterns []string, host string) bool {
	matched := false
	for _, p := range patterns {
		if neg, ok := strings.CutPrefix(p, "!"); ok {
			if matchPattern(host, neg) {
				return false
			}
		} else if matchPattern(host, p) {
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
