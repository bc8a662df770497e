package sshconfig

import (
	"errors"
	"fmt"
	"os"
	"os/user"
	"strings"
)

// lookupHome finds another user's home directory for ~user; a variable so
// that tests need not depend on the machine's accounts.
var lookupHome = func(name string) (string, error) {
	u, err := user.Lookup(name)
	if err != nil {
		return "", err
	}
	return u.HomeDir, nil
}

// expandPath expands an IdentityFile or UserKnownHostsFile value in ssh's
// order: a leading ~ first, then %-tokens and ${ENV} in one pass (so a %
// produced by ${ENV} is not expanded again). On error it returns the value
// with only as much expanded as worked, and the error for a warning.
func expandPath(raw, home string, tokens map[byte]string) (string, error) {
	v, err := expandTildeFile(raw, home)
	if err != nil {
		return raw, err
	}
	out, err := expandPercent(v, tokens, true)
	if err != nil {
		return v, err
	}
	return out, nil
}

// expandTildeFile is ssh's tilde_expand_filename (OpenSSH 9.2): "~", "~/"
// and "~/x" are under home, "~user" and "~user/x" under that user's home;
// slashes after the ~ part are squeezed; an unknown user is an error.
func expandTildeFile(p, home string) (string, error) {
	rest, ok := strings.CutPrefix(p, "~")
	if !ok {
		return p, nil
	}
	dir := home
	if rest != "" && rest[0] != '/' {
		name, after, _ := strings.Cut(rest, "/")
		h, err := lookupHome(name)
		if err != nil || h == "" {
			return p, fmt.Errorf("no such user %q for ~%s", name, name)
		}
		dir, rest = h, after
	}
	rest = strings.TrimLeft(rest, "/")
	if !strings.HasSuffix(dir, "/") {
		dir += "/"
	}
	return dir + rest, nil
}

// expandTildeGlob is the ~ handling of glob(3) with GLOB_TILDE, which ssh
// uses for Include: "~" and "~/x" use home, "~user[/x]" that user's home, and
// an unknown user leaves the pattern as it is (it will then match nothing).
func expandTildeGlob(p, home string) string {
	rest, ok := strings.CutPrefix(p, "~")
	if !ok {
		return p
	}
	name, after, slash := strings.Cut(rest, "/")
	dir := home
	if name != "" {
		h, err := lookupHome(name)
		if err != nil || h == "" {
			return p
		}
		dir = h
	}
	if !slash {
		return dir
	}
	return strings.TrimSuffix(dir, "/") + "/" + after
}

// expandPercent replaces %x by tokens[x] and %% by %, and with dollar also
// ${NAME} by the environment variable NAME. ssh refuses to connect over an
// unknown token, a trailing %, or an unset variable; here they are errors
// that Lookup turns into warnings, since it has no error to return.
func expandPercent(s string, tokens map[byte]string, dollar bool) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if dollar && c == '$' && i+1 < len(s) && s[i+1] == '{' {
			end := strings.IndexByte(s[i+2:], '}')
			if end < 0 {
				return s, errors.New("${ without a closing }")
			}
			name := s[i+2 : i+2+end]
			if name == "" {
				return s, errors.New("empty ${} variable name")
			}
			v, ok := os.LookupEnv(name)
			if !ok {
				return s, fmt.Errorf("environment variable ${%s} is not set", name)
			}
			b.WriteString(v)
			i += 2 + end
			continue
		}
		if c != '%' {
			b.WriteByte(c)
			continue
		}
		i++
		if i == len(s) {
			return s, errors.New("'%' at end of value")
		}
		if s[i] == '%' {
			b.WriteByte('%')
			continue
		}
		v, ok := tokens[s[i]]
		if !ok {
			return s, fmt.Errorf("token %%%c is not supported", s[i])
		}
		b.WriteString(v)
	}
	return b.String(), nil
}
