package inventory

import (
	"fmt"
	"math"
	"net/netip"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// The document is decoded into a generic tree first and read from there by
// hand, rather than into tagged structs: a struct decode stops at the first
// wrong type and places it by key name only, so the third [[host]]'s error
// would point at whichever host came last. Reading by hand reports every
// wrong type and unknown key with its own line.

// decoder holds what every problem needs: the file and where keys are.
type decoder struct {
	file     string
	lines    map[string]int // key path -> line; nil when positions are unknown
	problems Problems
	hosts    []Host // the [[host]] entries, once read: tables keyed by host follow their order
}

// line finds the line of key, or of its nearest parent that is written in
// the document (a missing key is reported at its table's header).
func (d *decoder) line(key string) int {
	for ; key != ""; key = parentKey(key) {
		if n, ok := d.lines[key]; ok {
			return n
		}
	}
	return 0
}

// parentKey drops the last part of a key path: vlan[1].hosts.a -> vlan[1].hosts -> vlan[1] -> vlan.
func parentKey(key string) string {
	cut, quoted := 0, false
	for i := 0; i < len(key); i++ {
		switch c := key[i]; {
		case c == '\\' && quoted:
			i++
		case c == '"':
			quoted = !quoted
		case !quoted && (c == '.' || c == '['):
			cut = i
		}
	}
	return key[:cut]
}

// report records a problem with key; value is the decoded TOML value, or nil
// when the problem is not about one value.
func (d *decoder) report(key string, value any, msg string) {
	d.problems = append(d.problems, Problem{File: d.file, Line: d.line(key), Key: key, Value: render(value), Msg: msg})
}

// where names another entry inside parentheses: "host[1], line 12".
func (d *decoder) where(key string) string {
	if n := d.line(key); n > 0 {
		return fmt.Sprintf("%s, line %d", key, n)
	}
	return key
}

// at names another entry as the subject of a sentence: "host[1] (line 12)".
func (d *decoder) at(key string) string {
	if n := d.line(key); n > 0 {
		return fmt.Sprintf("%s (line %d)", key, n)
	}
	return key
}

// render writes a scalar in TOML syntax; tables and arrays are left out
// because a message about them names the key, and the line shows the rest.
func render(v any) string {
	switch v := v.(type) {
	case string:
		return strconv.Quote(v)
	case int64:
		return strconv.FormatInt(v, 10)
	case int:
		return strconv.Itoa(v)
	case bool:
		return strconv.FormatBool(v)
	case float64:
		return renderFloat(v)
	}
	return "" // dates would not read as written: the line shows them

}

// renderFloat writes a float so that it still reads as one: 22.0, not 22,
// which would hide why "must be an integer" was said of it.
func renderFloat(f float64) string {
	switch {
	case math.IsNaN(f):
		return "nan"
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	s := strconv.FormatFloat(f, 'g', -1, 64)
	if !strings.ContainsAny(s, ".e") {
		s += ".0"
	}
	return s
}

func typeName(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case int64:
		return "an integer"
	case float64:
		return "a float"
	case bool:
		return "a boolean"
	case map[string]any:
		return "a table"
	case []map[string]any, []any:
		return "an array"
	case time.Time:
		return "a date/time"
	}
	return fmt.Sprintf("a %T", v)
}

// table reads one TOML table and remembers which keys were asked for, so
// that whatever is left over is an unknown key.
type table struct {
	d       *decoder
	path    string // "host[1]"; "" for the top level
	kind    string // "[[host]]", for messages
	m       map[string]any
	present bool
	asked   []string
}

func (t *table) key(name string) string { return joinKey(t.path, name) }

func (t *table) get(name string) (any, bool) {
	t.asked = append(t.asked, name)
	v, ok := t.m[name]
	return v, ok
}

func (t *table) has(name string) bool {
	_, ok := t.m[name]
	return ok
}

// wrongType reports a value of the wrong TOML type; hint, if any, shows
// how to write it.
func (t *table) wrongType(name string, v any, want, hint string) {
	msg := fmt.Sprintf("must be %s, not %s", want, typeName(v))
	if hint != "" {
		msg += ": " + hint
	}
	t.d.report(t.key(name), v, msg)
}

// need reports a required key that is missing, at the table's own line.
// An entry that is not a table at all has been reported already.
func (t *table) need(name, why string) {
	if t.present && !t.has(name) {
		t.d.report(t.key(name), nil, fmt.Sprintf("missing; every %s needs %s", t.kind, why))
	}
}

// str returns a string value ("" when absent or of another type); check,
// if given, says what is wrong with it. A value that fails its check is
// still returned so that references to it resolve and one mistake is not
// reported again as an unknown reference.
func (t *table) str(name string, check func(string) string) string {
	v, ok := t.get(name)
	if !ok {
		return ""
	}
	s, ok := v.(string)
	if !ok {
		t.wrongType(name, v, "a string", "")
		return ""
	}
	if check != nil {
		if msg := check(s); msg != "" {
			t.d.report(t.key(name), v, msg)
		}
	}
	return s
}

// strOr is str with a default for an absent key.
func (t *table) strOr(name, def string, check func(string) string) string {
	if !t.has(name) {
		t.get(name)
		return def
	}
	return t.str(name, check)
}

// integer returns an integer within lo..hi, or 0; outOfRange completes the
// message for a value outside it.
func (t *table) integer(name string, lo, hi int, outOfRange string) int {
	v, ok := t.get(name)
	if !ok {
		return 0
	}
	n, ok := v.(int64)
	if !ok {
		t.wrongType(name, v, "an integer", integerHint(name, v))
		return 0
	}
	if n < int64(lo) || n > int64(hi) {
		t.d.report(t.key(name), v, "out of range; "+outOfRange)
		return 0
	}
	return int(n)
}

// integerHint shows how a number written as a string or a float is written
// as a TOML integer, when it is one.
func integerHint(name string, v any) string {
	switch v := v.(type) {
	case string:
		if n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err == nil {
			return fmt.Sprintf("write %s = %d, without quotes", name, n)
		}
	case float64:
		if v == math.Trunc(v) && math.Abs(v) <= 1<<53 {
			return fmt.Sprintf("write %s = %d, without a decimal point", name, int64(v))
		}
	}
	return ""
}

func (t *table) port(name string) int {
	return t.integer(name, 1, 65535, "a port is 1..65535")
}

// strList returns an array of strings (nil when absent, empty when
// written empty). An entry of another type is reported and read as "", so
// that later entries keep their positions. check, when not nil, says what is
// wrong with an entry ("" when nothing); unique refuses a value written
// twice. hint, when not "", shows how to write the list.
func (t *table) strList(name, hint string, check func(string) string, unique bool) []string {
	v, ok := t.get(name)
	if !ok {
		return nil
	}
	items, ok := v.([]any)
	if !ok {
		wh := hint
		if wh == "" {
			wh = fmt.Sprintf(`write %s = ["..."]`, name)
		}
		t.wrongType(name, v, "an array of strings", wh)
		return nil
	}
	out := []string{} // present, if empty: not nil
	for i, e := range items {
		key := indexKey(t.key(name), i+1)
		s, ok := e.(string)
		switch {
		case !ok:
			msg := "must be a string, not " + typeName(e)
			if hint != "" {
				msg += "; " + hint
			}
			t.d.report(key, e, msg)
		case check != nil && check(s) != "":
			t.d.report(key, s, check(s))
		case unique && slices.Contains(out, s):
			t.d.report(key, s, fmt.Sprintf("already item %d of %s; write each once", slices.Index(out, s)+1, name))
		}
		out = append(out, s)
	}
	return out
}

// boolean returns nil when the key is absent, so a default can apply.
func (t *table) boolean(name string) *bool {
	v, ok := t.get(name)
	if !ok {
		return nil
	}
	b, ok := v.(bool)
	if !ok {
		hint := fmt.Sprintf("write %s = true or %s = false", name, name)
		if _, ok := v.(string); ok {
			hint += ", without quotes"
		}
		t.wrongType(name, v, "true or false", hint)
		return nil
	}
	return &b
}

// ipv4 returns a valid IPv4 address, or the zero Addr.
func (t *table) ipv4(name string) netip.Addr {
	var a netip.Addr
	t.str(name, func(s string) (msg string) {
		a, msg = parseIPv4(s)
		return msg
	})
	return a
}

// prefix returns a valid IPv4 prefix, or the zero Prefix; check adds what
// the caller needs beyond the syntax.
func (t *table) prefix(name string, check func(netip.Prefix) string) netip.Prefix {
	var p netip.Prefix
	t.str(name, func(s string) string {
		parsed, msg := parseIPv4Prefix(s)
		if msg == "" && check != nil {
			msg = check(parsed)
		}
		if msg == "" {
			p = parsed
		}
		return msg
	})
	return p
}

// sub returns the table under name. It is never nil, so callers read an
// absent table like an empty one; present says whether it was written.
func (t *table) sub(name, kind string) *table {
	sub := &table{d: t.d, path: t.key(name), kind: kind, m: map[string]any{}}
	v, ok := t.get(name)
	if !ok {
		return sub
	}
	switch m := v.(type) {
	case map[string]any:
		sub.m, sub.present = m, true
	case []map[string]any:
		t.d.report(sub.path, nil, fmt.Sprintf("must be a single table: write %s, not [%s]", kind, kind))
	default:
		t.wrongType(name, v, "a table", fmt.Sprintf("write %s on a line of its own, then its keys", kind))
	}
	return sub
}

// list returns the entries of an array of tables, [[name]].
func (t *table) list(name, kind string) []*table {
	v, ok := t.get(name)
	if !ok {
		return nil
	}
	var entries []any
	switch v := v.(type) {
	case []map[string]any:
		for _, m := range v {
			entries = append(entries, m)
		}
	case []any: // name = [{...}, {...}] is the same thing written inline
		entries = v
	case map[string]any:
		t.d.report(t.key(name), nil, fmt.Sprintf("must be an array of tables: write %s, with two brackets, once per entry", kind))
		return nil
	default:
		t.wrongType(name, v, "an array of tables", fmt.Sprintf("write %s, once per entry", kind))
		return nil
	}
	tables := make([]*table, 0, len(entries))
	for i, e := range entries {
		path := indexKey(t.key(name), i+1)
		m, ok := e.(map[string]any)
		if !ok {
			t.d.report(path, e, "must be a table, not "+typeName(e))
			m = map[string]any{}
		}
		tables = append(tables, &table{d: t.d, path: path, kind: kind, m: m, present: ok})
	}
	return tables
}

// finish reports every key that was not asked for, top to bottom.
func (t *table) finish() {
	var unknown []string
	for k := range t.m {
		if !slices.Contains(t.asked, k) {
			unknown = append(unknown, k)
		}
	}
	sort.Slice(unknown, func(i, j int) bool {
		li, lj := t.d.line(t.key(unknown[i])), t.d.line(t.key(unknown[j]))
		return li < lj || li == lj && unknown[i] < unknown[j]
	})
	for _, k := range unknown {
		t.d.report(t.key(k), t.m[k], t.unknownMsg(k))
	}
}

func (t *table) unknownMsg(k string) string {
	known := slices.Compact(slices.Clone(t.asked))
	msg := "unknown key"
	if t.path == "" {
		msg = "unknown table or key"
	}
	if guess := closest(k, known); guess != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", guess)
	}
	where := "in " + t.kind
	if t.path == "" {
		where = "at the top level"
	}
	return fmt.Sprintf("%s; known %s: %s", msg, where, strings.Join(known, ", "))
}

// closest suggests a known key within two edits of a misspelt one.
func closest(k string, known []string) string {
	best, bestDist := "", 3
	for _, c := range known {
		if d := editDistance(strings.ToLower(k), c); d < bestDist {
			best, bestDist = c, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}
