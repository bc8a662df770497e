// Package sh builds the shell text of every remote command mvorch sends.
//
// Everything is quoted by default; Raw is the one visible opt-out, for shell
// syntax such as "&&", "|" or "2>/dev/null" that must reach the shell as is.
// A Command is a value: Arg and Raw return a new Command and never modify the
// receiver, so a prefix can be shared by several commands.
package sh

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// ErrNUL is recorded by a Command given a string with a NUL byte: the shell
// text travels to sshd as a C string, so anything after the NUL would be lost
// and the command that ran would not be the command that was built.
var ErrNUL = errors.New("argument contains a NUL byte, which a shell command cannot carry")

// Command is an argv-like builder of one shell command line.
type Command struct {
	words []string // shell text, already quoted where needed
	err   error
}

// New starts a command; name and every argument are quoted.
func New(name string, args ...string) Command {
	return Command{}.Arg(name).Arg(args...)
}

// Arg appends arguments, each quoted as one shell word.
func (c Command) Arg(args ...string) Command {
	for _, a := range args {
		c = c.add(Quote(a), a)
	}
	return c
}

// Raw appends s unquoted. It is the one opt-out from quoting: use it only
// for constant shell syntax, never for values from the inventory or a host.
func (c Command) Raw(s string) Command {
	return c.add(s, s)
}

func (c Command) add(word, orig string) Command {
	// A fresh slice, so that commands built from a shared prefix never
	// write into each other's backing array.
	words := make([]string, len(c.words), len(c.words)+1)
	copy(words, c.words)
	c.words = append(words, word)
	if strings.IndexByte(orig, 0) >= 0 {
		c.err = errors.Join(c.err, fmt.Errorf("%q: %w", orig, ErrNUL))
	}
	return c
}

// String returns the shell text: the words separated by single spaces.
func (c Command) String() string {
	return strings.Join(c.words, " ")
}

// Err reports an argument the shell cannot carry (see ErrNUL).
// String still works, so that the error message can show the command.
func (c Command) Err() error {
	return c.err
}

// Join chains commands with "&&": each runs only if the one before succeeded.
func Join(cmds ...Command) Command {
	var out Command
	for i, c := range cmds {
		if i > 0 {
			out = out.Raw("&&")
		}
		out.words = append(out.words, c.words...)
		out.err = errors.Join(out.err, c.err)
	}
	return out
}

// Script joins commands as the lines of a script, for text sent to `sh -c`.
// It returns text only: check each line's Err first. (runner/transport also
// refuses a command with a NUL byte, so a forgotten check cannot go through.)
func Script(lines ...Command) string {
	text := make([]string, len(lines))
	for i, l := range lines {
		text[i] = l.String()
	}
	return strings.Join(text, "\n")
}

// safeWord matches words that mean the same to the shell quoted or not.
// A leading '-' is left bare on purpose: quoting cannot stop a program from
// reading "-x" as an option, only "--" before it can.
var safeWord = regexp.MustCompile(`^[A-Za-z0-9_@%+=:,./-]+$`)

// Quote returns s as one shell word that the shell reads back as exactly s.
// Safe words stay bare for readable output. Anything else is put in single
// quotes, inside which the shell interprets nothing; a quote inside s closes
// the quoted part, is escaped, and opens the next:
//
//	it's   ->  'it'\''s'
//	(empty) -> ''
func Quote(s string) string {
	if safeWord.MatchString(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
