package inventory

import (
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/BurntSushi/toml"
)

// BurntSushi/toml v1.6.0 records where each key is written but does not export
// it, and its key names have no array index ("host.address" for every
// [[host]]). So the lines come from this small scanner, which walks the
// document (already accepted by the real parser) and names every key the way
// problems name it: host[2].address.

// keyPos is where one key is written.
type keyPos struct {
	path string   // indexed and rendered: vlan[1].hosts.docker01
	key  toml.Key // as the toml parser names it, for the cross-check
	line int
	// implicit marks a parent of a dotted key (hosts in hosts.docker01 = ...):
	// useful as a place, but the parser does not list it among its keys.
	implicit bool
}

type keyScanner struct {
	src  string
	i    int
	line int
	// arrays counts the entries of each array of tables so far, by the path
	// of the array itself (vlan, or vlan[2].x for a nested one).
	arrays   map[string]int
	recorded map[string]bool
	keys     []keyPos
}

// keyLines maps every key path in src to its line. It returns nil when the
// scanner and the parser disagree on the keys of the document: no line is
// better than a wrong one.
func keyLines(src string, md toml.MetaData) map[string]int {
	keys := scanKeys(src)
	if !sameKeys(keys, md.Keys()) {
		return nil
	}
	lines := make(map[string]int, len(keys))
	for _, k := range keys {
		if _, ok := lines[k.path]; !ok {
			lines[k.path] = k.line
		}
	}
	return lines
}

func sameKeys(scanned []keyPos, parsed []toml.Key) bool {
	var explicit []string
	for _, k := range scanned {
		if !k.implicit {
			explicit = append(explicit, k.key.String())
		}
	}
	if len(explicit) != len(parsed) {
		return false
	}
	for i, k := range parsed {
		if explicit[i] != k.String() {
			return false
		}
	}
	return true
}

// scanKeys lists the keys of a syntactically valid TOML document in order.
func scanKeys(src string) []keyPos {
	s := &keyScanner{src: src, line: 1, arrays: map[string]int{}, recorded: map[string]bool{}}
	var tablePath string
	var tableKey toml.Key
	for s.skipSpace(); s.i < len(s.src); s.skipSpace() {
		if s.peek("[") {
			tablePath, tableKey = s.header()
			continue
		}
		s.keyValue(tablePath, tableKey)
	}
	return s.keys
}

// header reads [a.b] or [[a.b]] and returns the path its keys live under.
func (s *keyScanner) header() (string, toml.Key) {
	line := s.line
	array := s.peek("[[")
	brackets := 1
	if array {
		brackets = 2
	}
	s.i += brackets
	parts := s.keyParts()
	s.i += brackets

	var path string
	var key toml.Key
	for n, part := range parts {
		path, key = joinKey(path, part), append(slices.Clone(key), part)
		last := n == len(parts)-1
		switch count, isArray := s.arrays[path]; {
		case last && array:
			s.arrays[path] = count + 1
			s.record(path, key, line, true) // the whole array: the line of its first entry
			path = indexKey(path, count+1)
		case isArray:
			path = indexKey(path, count)
		}
		s.record(path, key, line, !last)
	}
	return path, key
}

// keyValue reads key = value, where key may be dotted.
func (s *keyScanner) keyValue(path string, key toml.Key) {
	line := s.line
	parts := s.keyParts()
	for n, part := range parts {
		path, key = joinKey(path, part), append(slices.Clone(key), part)
		s.record(path, key, line, n < len(parts)-1)
	}
	s.skipBlank()
	s.i++ // =
	s.skipBlank()
	s.value(path, key)
}

func (s *keyScanner) record(path string, key toml.Key, line int, implicit bool) {
	if implicit && s.recorded[path] {
		return
	}
	s.recorded[path] = true
	s.keys = append(s.keys, keyPos{path: path, key: key, line: line, implicit: implicit})
}

// value skips one value, recording the keys of inline tables inside it.
func (s *keyScanner) value(path string, key toml.Key) {
	switch {
	case s.peek(`"""`), s.peek(`'''`):
		s.multiline()
	case s.peek(`"`):
		s.basic()
	case s.peek(`'`):
		s.literal()
	case s.peek("["):
		s.array(path, key)
	case s.peek("{"):
		s.inlineTable(path, key)
	default:
		// Numbers, booleans, dates: a local date-time may hold a space, so
		// only what ends a value ends it.
		for s.i < len(s.src) && !strings.ContainsRune(",]}#\r\n", rune(s.src[s.i])) {
			s.i++
		}
	}
}

func (s *keyScanner) array(path string, key toml.Key) {
	s.i++
	for n := 1; ; n++ {
		s.skipSpace()
		if s.i >= len(s.src) || s.peek("]") {
			s.i++
			return
		}
		start := s.i
		s.value(indexKey(path, n), key)
		s.skipSpace()
		if s.peek(",") || s.i == start {
			s.i++ // a ',' or, lost, anything: the scanner must always move on
		}
	}
}

// inlineTable reads { k = v, ... }; TOML 1.1 lets it span lines.
func (s *keyScanner) inlineTable(path string, key toml.Key) {
	s.i++
	for {
		s.skipSpace()
		if s.i >= len(s.src) || s.peek("}") {
			s.i++
			return
		}
		s.keyValue(path, key)
		s.skipSpace()
		if s.peek(",") {
			s.i++
		}
	}
}

func (s *keyScanner) keyParts() []string {
	var parts []string
	for {
		s.skipBlank()
		switch {
		case s.peek(`"`):
			parts = append(parts, s.basic())
		case s.peek(`'`):
			parts = append(parts, s.literal())
		default:
			start := s.i
			for s.i < len(s.src) && isBare(s.src[s.i]) {
				s.i++
			}
			parts = append(parts, s.src[start:s.i])
		}
		s.skipBlank()
		if !s.peek(".") {
			return parts
		}
		s.i++
	}
}

// multiline skips a multi-line string, basic or literal. Its closing
// delimiter may be followed by up to two more quotes of the content.
func (s *keyScanner) multiline() {
	quote := s.src[s.i]
	s.i += 3
	for s.i < len(s.src) {
		c := s.src[s.i]
		switch {
		case c == '\\' && quote == '"':
			s.advance()
			s.advance()
		case c == quote && s.peek(strings.Repeat(string(quote), 3)):
			for n := 0; n < 5 && s.i < len(s.src) && s.src[s.i] == quote; n++ {
				s.i++
			}
			return
		default:
			s.advance()
		}
	}
}

// basic reads a "..." string and returns its content, so that quoted keys
// are named as the parser names them.
func (s *keyScanner) basic() string {
	var b strings.Builder
	s.i++
	for s.i < len(s.src) && s.src[s.i] != '"' {
		if s.src[s.i] != '\\' {
			b.WriteByte(s.src[s.i])
			s.i++
			continue
		}
		s.escape(&b)
	}
	s.i++
	return b.String()
}

func (s *keyScanner) escape(b *strings.Builder) {
	s.i++ // backslash
	if s.i >= len(s.src) {
		return
	}
	c := s.src[s.i]
	s.i++
	if r, ok := map[byte]byte{'b': '\b', 't': '\t', 'n': '\n', 'f': '\f', 'r': '\r', 'e': 0x1b, '"': '"', '\\': '\\'}[c]; ok {
		b.WriteByte(r)
		return
	}
	width := map[byte]int{'x': 2, 'u': 4, 'U': 8}[c]
	if width == 0 || s.i+width > len(s.src) {
		return
	}
	n, err := strconv.ParseUint(s.src[s.i:s.i+width], 16, 32)
	s.i += width
	if err == nil && utf8.ValidRune(rune(n)) {
		b.WriteRune(rune(n))
	}
}

func (s *keyScanner) literal() string {
	s.i++
	start := s.i
	for s.i < len(s.src) && s.src[s.i] != '\'' {
		s.i++
	}
	s.i++
	return s.src[start : s.i-1]
}

// skipSpace skips whitespace, newlines and comments.
func (s *keyScanner) skipSpace() {
	for s.i < len(s.src) {
		switch c := s.src[s.i]; {
		case c == '#':
			for s.i < len(s.src) && s.src[s.i] != '\n' {
				s.i++
			}
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			s.advance()
		default:
			return
		}
	}
}

// skipBlank skips spaces and tabs within a line.
func (s *keyScanner) skipBlank() {
	for s.i < len(s.src) && (s.src[s.i] == ' ' || s.src[s.i] == '\t') {
		s.i++
	}
}

func (s *keyScanner) advance() {
	if s.i < len(s.src) && s.src[s.i] == '\n' {
		s.line++
	}
	s.i++
}

// peek never fails: a scanner that lost its way (the parser accepts a few
// documents this scanner reads differently) runs off the end, and must then
// only produce keys that do not match the parser's.
func (s *keyScanner) peek(prefix string) bool {
	return s.i < len(s.src) && strings.HasPrefix(s.src[s.i:], prefix)
}

func isBare(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}

// joinKey appends one key to a path, quoting it as TOML would when it is not bare.
func joinKey(path, name string) string {
	if name == "" || strings.IndexFunc(name, func(r rune) bool { return r > 0x7f || !isBare(byte(r)) }) >= 0 {
		name = strconv.Quote(name)
	}
	if path == "" {
		return name
	}
	return path + "." + name
}

// indexKey names the n-th (1-based) entry of an array: host[2].
func indexKey(path string, n int) string {
	return path + "[" + strconv.Itoa(n) + "]"
}
