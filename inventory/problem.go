package inventory

import (
	"strconv"
	"strings"
)

// Problem is one thing wrong with an inventory, located as precisely as the
// document allows so that a person can go straight to the line.
type Problem struct {
	File string `json:"file,omitempty"`
	// Line is 1-based; 0 when the problem has no single place (no [[host]] at all).
	Line int `json:"line,omitempty"`
	// Key names the setting: "container[2].ip", with 1-based indexes counted
	// the way a person counts [[container]] entries in the file.
	Key string `json:"key,omitempty"`
	// Value is the offending value in TOML syntax (strings quoted), so that it
	// reads as the user wrote it and an empty string is still visible.
	Value string `json:"value,omitempty"`
	Msg   string `json:"message"`
}

// String renders "FILE:LINE: KEY = VALUE: MSG", leaving out the parts that are unknown.
func (p Problem) String() string {
	var b strings.Builder
	if p.File != "" {
		b.WriteString(p.File)
		if p.Line > 0 {
			b.WriteString(":" + strconv.Itoa(p.Line))
		}
		b.WriteString(": ")
	} else if p.Line > 0 {
		b.WriteString("line " + strconv.Itoa(p.Line) + ": ")
	}
	if p.Key != "" {
		b.WriteString(p.Key)
		if p.Value != "" {
			b.WriteString(" = " + p.Value)
		}
		b.WriteString(": ")
	}
	b.WriteString(p.Msg)
	return b.String()
}

// Problems is every problem found in one inventory. Validation collects them
// all rather than stopping at the first, so one run of `mvorch validate`
// shows everything there is to fix.
type Problems []Problem

// Error prints one problem per line.
func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}
