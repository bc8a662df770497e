package sh

import (
	"fmt"
	"strings"
)

// SystemdEscapeArg returns s as one argument of a systemd unit's ExecStart=
// line. systemd splits that line itself (no shell is involved) and expands
// "$VAR" and "%x" specifiers, so those are doubled; a word with whitespace,
// quotes or backslashes is put in double quotes, inside which systemd
// understands C-style escapes.
func SystemdEscapeArg(s string) string {
	s = strings.ReplaceAll(s, "%", "%%")
	s = strings.ReplaceAll(s, "$", "$$")
	if !systemdNeedsQuotes(s) {
		return s
	}
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		b.WriteString(systemdEscapeRune(r))
	}
	b.WriteByte('"')
	return b.String()
}

// systemdNeedsQuotes reports whether systemd would split s, read quotes or
// escapes in it, or take it for the ";" that separates commands.
func systemdNeedsQuotes(s string) bool {
	return s == "" || s == ";" || strings.ContainsAny(s, " \t\n\r\v\f\"'\\") || hasControl(s)
}

func hasControl(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return true
		}
	}
	return false
}

func systemdEscapeRune(r rune) string {
	switch r {
	case '\\':
		return `\\`
	case '"':
		return `\"`
	case '\n':
		return `\n`
	case '\t':
		return `\t`
	case '\r':
		return `\r`
	}
	if r < 0x20 || r == 0x7f {
		return fmt.Sprintf(`\x%02x`, r)
	}
	return string(r)
}
