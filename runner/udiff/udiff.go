// Package udiff renders line-based unified diffs, the format `diff -u`
// prints, for showing how a planned write changes a file.
//
// The line matching is Eugene W. Myers' O(ND) algorithm ("An O(ND)
// Difference Algorithm and Its Variations", Algorithmica 1, 1986) in its
// linear-space form: find the middle snake of an optimal edit path by
// running the greedy search from both ends at once, then recurse on the two
// halves on either side of it. The result is a minimal edit script (fewest
// deleted plus inserted lines).
package udiff

import (
	"strconv"
	"strings"
)

// maxEdits bounds the edit distance searched for in the part of the inputs
// left after trimming their common leading and trailing lines. When that
// part needs more edits than this, it is shown as entirely removed and
// re-added instead. The bound keeps the work near O((N+M)·maxEdits) time in
// O(N+M) memory while still giving exact diffs for large files with
// moderate changes (a bound on N·M would not).
const maxEdits = 2000

// Unified returns a unified diff (as `diff -u` prints it) of old -> new, with
// `context` lines of context (3 is usual), headers "--- oldName" / "+++ newName".
// Identical inputs return "". A missing trailing newline is marked with
// "\ No newline at end of file" as diff does. old or new may be empty (file created/removed:
// hunk header "@@ -0,0 +1,N @@" / "@@ -1,N +0,0 @@"). Negative context is treated as 0.
func Unified(oldName, newName string, old, new []byte, context int) string {
	if context < 0 {
		context = 0
	}
	a, b := splitLines(old), splitLines(new)
	changes := compareLines(a, b)
	if len(changes) == 0 {
		return ""
	}
	var sb strings.Builder
	sb.WriteString("--- " + oldName + "\n")
	sb.WriteString("+++ " + newName + "\n")
	for first := 0; first < len(changes); {
		last := first
		// Changes separated by at most 2*context unchanged lines would have
		// touching or overlapping context, so they share one hunk.
		for last+1 < len(changes) && changes[last+1].a0-changes[last].a1 <= 2*context {
			last++
		}
		writeHunk(&sb, a, changes[first:last+1], b, context)
		first = last + 1
	}
	return sb.String()
}

// change says that lines a[a0:a1] of the old text are replaced by lines
// b[b0:b1] of the new one; either range may be empty, not both.
type change struct{ a0, a1, b0, b1 int }

// splitLines cuts text into lines, each keeping its "\n"; only the last
// one can lack it.
func splitLines(text []byte) []string {
	if len(text) == 0 {
		return nil
	}
	lines := strings.SplitAfter(string(text), "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

// writeHunk writes one hunk covering the given changes (in order, close
// enough to share a hunk) plus up to context unchanged lines around them.
func writeHunk(sb *strings.Builder, a []string, chs []change, b []string, context int) {
	first, last := chs[0], chs[len(chs)-1]
	// Unchanged lines pair up one to one, so the same count of them sits
	// before the first change (and after the last) in both texts.
	before := min(context, first.a0)
	after := min(context, len(a)-last.a1)
	aStart, aEnd := first.a0-before, last.a1+after
	bStart, bEnd := first.b0-before, last.b1+after

	sb.WriteString("@@ -")
	sb.WriteString(hunkRange(aStart, aEnd-aStart))
	sb.WriteString(" +")
	sb.WriteString(hunkRange(bStart, bEnd-bStart))
	sb.WriteString(" @@\n")

	i := aStart
	for _, c := range chs {
		for ; i < c.a0; i++ {
			writeLine(sb, ' ', a[i])
		}
		for _, l := range a[c.a0:c.a1] {
			writeLine(sb, '-', l)
		}
		for _, l := range b[c.b0:c.b1] {
			writeLine(sb, '+', l)
		}
		i = c.a1
	}
	for ; i < aEnd; i++ {
		writeLine(sb, ' ', a[i])
	}
}

// hunkRange formats the range of count lines starting at 0-based index
// start: "first,count" with 1-based first, just "first" for a single line,
// and for an empty range the number of the line it follows (0 at the top).
func hunkRange(start, count int) string {
	switch count {
	case 0:
		return strconv.Itoa(start) + ",0"
	case 1:
		return strconv.Itoa(start + 1)
	default:
		return strconv.Itoa(start+1) + "," + strconv.Itoa(count)
	}
}

func writeLine(sb *strings.Builder, mark byte, line string) {
	sb.WriteByte(mark)
	sb.WriteString(line)
	if !strings.HasSuffix(line, "\n") {
		sb.WriteString("\n\\ No newline at end of file\n")
	}
}

// compareLines returns the changes turning a into b, in order.
func compareLines(a, b []string) []change {
	// Compare small integers rather than strings.
	ids := make(map[string]int, len(a)+len(b))
	intern := func(lines []string) []int {
		out := make([]int, len(lines))
		for i, l := range lines {
			id, ok := ids[l]
			if !ok {
				id = len(ids)
				ids[l] = id
			}
			out[i] = id
		}
		return out
	}
	x, y := intern(a), intern(b)

	// Lines common to both ends never take part in an edit.
	head := 0
	for head < len(x) && head < len(y) && x[head] == y[head] {
		head++
	}
	tail := 0
	for tail < len(x)-head && tail < len(y)-head && x[len(x)-1-tail] == y[len(y)-1-tail] {
		tail++
	}
	m := newMatcher(x[head:len(x)-tail], y[head:len(y)-tail])
	if !m.solve(maxEdits) {
		// Too different: replace the whole middle part.
		for i := range m.deleted {
			m.deleted[i] = true
		}
		for j := range m.inserted {
			m.inserted[j] = true
		}
	}

	var out []change
	n, k := len(m.deleted), len(m.inserted)
	for i, j := 0, 0; i < n || j < k; {
		if (i < n && m.deleted[i]) || (j < k && m.inserted[j]) {
			c := change{a0: i, b0: j}
			for i < n && m.deleted[i] {
				i++
			}
			for j < k && m.inserted[j] {
				j++
			}
			c.a1, c.b1 = i, j
			c.a0 += head
			c.a1 += head
			c.b0 += head
			c.b1 += head
			out = append(out, c)
			continue
		}
		// Neither line is edited, so they are a matched pair.
		i++
		j++
	}
	return out
}

// matcher finds a shortest edit script between two sequences, recording
// it as which elements of a are deleted and which elements of b inserted.
type matcher struct {
	a, b     []int
	deleted  []bool
	inserted []bool
	// fwd[off+k] and bwd[off+k] hold, for diagonal k (x-y = k, in the
	// coordinates of the subproblem being searched), the x reached by the
	// furthest forward and backward paths found so far.
	fwd, bwd []int
	off      int
}

func newMatcher(a, b []int) *matcher {
	n, m := len(a), len(b)
	// Diagonals visited stay within (n+m+2) of zero either way (backward
	// diagonals are shifted by delta, |delta| <= n+m).
	size := 2*(n+m) + 5
	return &matcher{
		a: a, b: b,
		deleted:  make([]bool, n),
		inserted: make([]bool, m),
		fwd:      make([]int, 2*size+1),
		bwd:      make([]int, 2*size+1),
		off:      size,
	}
}

// solve marks a minimal edit script, unless it needs more than limit
// edits, in which case it marks nothing and returns false.
func (m *matcher) solve(limit int) bool {
	n, k := len(m.a), len(m.b)
	if n == 0 || k == 0 {
		m.compare(0, n, 0, k)
		return true
	}
	if abs(n-k) > limit {
		return false // at least |n-k| edits are needed
	}
	// The middle snake is found at step ceil(D/2) for edit distance D.
	s, ok := m.middleSnake(0, n, 0, k, (limit+1)/2)
	if !ok || s.d > limit {
		return false
	}
	m.compare(0, s.x0, 0, s.y0)
	m.compare(s.x1, n, s.y1, k)
	return true
}

// compare marks a minimal edit script turning a[a0:a1] into b[b0:b1].
func (m *matcher) compare(a0, a1, b0, b1 int) {
	for a0 < a1 && b0 < b1 && m.a[a0] == m.b[b0] {
		a0++
		b0++
	}
	for a0 < a1 && b0 < b1 && m.a[a1-1] == m.b[b1-1] {
		a1--
		b1--
	}
	switch {
	case a0 == a1:
		for j := b0; j < b1; j++ {
			m.inserted[j] = true
		}
	case b0 == b1:
		for i := a0; i < a1; i++ {
			m.deleted[i] = true
		}
	default:
		// Both parts are non-empty and differ at both ends, so at least two
		// edits are needed and each half below needs strictly fewer.
		s, _ := m.middleSnake(a0, a1, b0, b1, -1)
		m.compare(a0, s.x0, b0, s.y0)
		m.compare(s.x1, a1, s.y1, b1)
	}
}

// snake is a run of matching lines from (x0,y0) to (x1,y1) (possibly
// empty) through which some optimal edit path passes, in absolute indices;
// d is the edit distance of the whole subproblem.
type snake struct{ x0, y0, x1, y1, d int }

// middleSnake finds the middle snake of an optimal path turning a[a0:a1]
// into b[b0:b1] (both non-empty). With maxSteps >= 0 it gives up, returning
// false, once each direction has taken more than maxSteps edits.
func (m *matcher) middleSnake(a0, a1, b0, b1, maxSteps int) (snake, bool) {
	a, b := m.a[a0:a1], m.b[b0:b1]
	n, k := len(a), len(b)
	delta := n - k // the diagonal the backward search starts on
	odd := delta%2 != 0
	fwd, bwd, off := m.fwd, m.bwd, m.off
	fwd[off+1] = 0       // so that step 0 starts at (0,0)
	bwd[off+delta-1] = n // so that step 0 starts at (n,k)

	for d := 0; d <= (n+k+1)/2; d++ {
		if maxSteps >= 0 && d > maxSteps {
			return snake{}, false
		}
		// Forward: extend the furthest reaching (d-1)-paths by one edit and
		// then along as many matching lines as possible.
		for diag := -d; diag <= d; diag += 2 {
			var x int
			if diag == -d || (diag != d && fwd[off+diag-1] < fwd[off+diag+1]) {
				x = fwd[off+diag+1] // down from diagonal diag+1: insert b[y-1]
			} else {
				x = fwd[off+diag-1] + 1 // right from diagonal diag-1: delete a[x-1]
			}
			y := x - diag
			x0, y0 := x, y
			for x < n && y < k && a[x] == b[y] {
				x++
				y++
			}
			fwd[off+diag] = x
			// With odd delta, paths meet after a forward step; the backward
			// search has taken d-1 steps, covering diagonals delta±(d-1).
			if odd && diag >= delta-(d-1) && diag <= delta+(d-1) && x >= bwd[off+diag] {
				return snake{a0 + x0, b0 + y0, a0 + x, b0 + y, 2*d - 1}, true
			}
		}
		// Backward: the same from (n,k) towards (0,0), on diagonals delta±d.
		for diag := delta - d; diag <= delta+d; diag += 2 {
			var x int
			if diag == delta+d || (diag != delta-d && bwd[off+diag-1] < bwd[off+diag+1]-1) {
				x = bwd[off+diag-1] // up from diagonal diag-1
			} else {
				x = bwd[off+diag+1] - 1 // left from diagonal diag+1
			}
			y := x - diag
			x1, y1 := x, y
			for x > 0 && y > 0 && a[x-1] == b[y-1] {
				x--
				y--
			}
			bwd[off+diag] = x
			// With even delta, paths meet after a backward step; the forward
			// search has taken d steps, covering diagonals ±d.
			if !odd && diag >= -d && diag <= d && x <= fwd[off+diag] {
				return snake{a0 + x, b0 + y, a0 + x1, b0 + y1, 2 * d}, true
			}
		}
	}
	panic("udiff: no middle snake found") // unreachable: paths always meet
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

// ANSI SGR sequences used by Colorize.
const (
	sgrBold  = "\x1b[1m"
	sgrRed   = "\x1b[31m"
	sgrGreen = "\x1b[32m"
	sgrCyan  = "\x1b[36m"
	sgrReset = "\x1b[0m"
)

// Colorize adds ANSI colours to a unified diff: headers bold, "-" lines red, "+" green, "@@" cyan.
//
// Each coloured line is reset before its newline, so lines can be printed
// separately. Hunk headers' counts are followed, so removed or added lines
// whose text starts with "--" or "++" are not taken for file headers.
func Colorize(diff string) string {
	var sb strings.Builder
	sb.Grow(len(diff) + len(diff)/4)
	oldLeft, newLeft := 0, 0 // lines still expected in the current hunk
	for _, raw := range strings.SplitAfter(diff, "\n") {
		if raw == "" {
			continue
		}
		line := strings.TrimSuffix(raw, "\n")
		nl := raw[len(line):]
		color := ""
		switch {
		case strings.HasPrefix(line, "@@"):
			color = sgrCyan
			oldLeft, newLeft = hunkCounts(line)
		case oldLeft > 0 || newLeft > 0:
			switch {
			case strings.HasPrefix(line, "-"):
				color = sgrRed
				oldLeft--
			case strings.HasPrefix(line, "+"):
				color = sgrGreen
				newLeft--
			case strings.HasPrefix(line, "\\"):
				// "\ No newline at end of file": left plain.
			default: // context
				oldLeft--
				newLeft--
			}
		case strings.HasPrefix(line, "--- "), strings.HasPrefix(line, "+++ "):
			color = sgrBold
		}
		if color == "" {
			sb.WriteString(raw)
			continue
		}
		sb.WriteString(color)
		sb.WriteString(line)
		sb.WriteString(sgrReset)
		sb.WriteString(nl)
	}
	return sb.String()
}

// hunkCounts reads the old and new line counts from a header like
// "@@ -1,3 +1,4 @@"; a range without a count has one line. A malformed
// header yields 0, 0.
func hunkCounts(header string) (oldCount, newCount int) {
	f := strings.Fields(header)
	if len(f) < 3 || !strings.HasPrefix(f[1], "-") || !strings.HasPrefix(f[2], "+") {
		return 0, 0
	}
	count := func(r string) int {
		_, c, found := strings.Cut(r[1:], ",")
		if !found {
			return 1
		}
		v, err := strconv.Atoi(c)
		if err != nil || v < 0 {
			return 0
		}
		return v
	}
	return count(f[1]), count(f[2])
}
