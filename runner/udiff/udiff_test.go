package udiff

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// lines joins its arguments, each followed by "\n".
func lines(ls ...string) []byte {
	var b bytes.Buffer
	for _, l := range ls {
		b.WriteString(l)
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// noEOL drops the final newline.
func noEOL(b []byte) []byte { return bytes.TrimSuffix(b, []byte("\n")) }

func TestUnifiedGolden(t *testing.T) {
	const noNL = "\\ No newline at end of file\n"
	ten := []string{"1", "2", "3", "4", "5", "6", "7", "8", "9", "10"}
	tenWith := func(repl map[int]string) []byte {
		out := append([]string(nil), ten...)
		for i, s := range repl {
			out[i] = s
		}
		return lines(out...)
	}
	tests := []struct {
		name     string
		old, new []byte
		context  int
		want     string
	}{
		{name: "identical", old: lines("a", "b"), new: lines("a", "b"), context: 3, want: ""},
		{name: "both empty", old: nil, new: []byte{}, context: 3, want: ""},
		{name: "identical without final newline", old: []byte("a\nb"), new: []byte("a\nb"), context: 3, want: ""},
		{
			name: "created", old: nil, new: lines("a", "b"), context: 3,
			want: "--- old\n+++ new\n@@ -0,0 +1,2 @@\n+a\n+b\n",
		},
		{
			name: "created one line", old: nil, new: lines("a"), context: 3,
			want: "--- old\n+++ new\n@@ -0,0 +1 @@\n+a\n",
		},
		{
			name: "removed", old: lines("a", "b", "c"), new: nil, context: 3,
			want: "--- old\n+++ new\n@@ -1,3 +0,0 @@\n-a\n-b\n-c\n",
		},
		{
			name: "one-line change", old: lines("a", "b", "c"), new: lines("a", "B", "c"), context: 3,
			want: "--- old\n+++ new\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n",
		},
		{
			name: "single line file changed", old: lines("a"), new: lines("b"), context: 3,
			want: "--- old\n+++ new\n@@ -1 +1 @@\n-a\n+b\n",
		},
		{
			name: "insert in middle", old: lines("a", "c"), new: lines("a", "b", "c"), context: 3,
			want: "--- old\n+++ new\n@@ -1,2 +1,3 @@\n a\n+b\n c\n",
		},
		{
			name: "old lacks final newline", old: []byte("a\nb"), new: lines("a", "b"), context: 3,
			want: "--- old\n+++ new\n@@ -1,2 +1,2 @@\n a\n-b\n" + noNL + "+b\n",
		},
		{
			name: "new lacks final newline", old: lines("a", "b"), new: []byte("a\nb"), context: 3,
			want: "--- old\n+++ new\n@@ -1,2 +1,2 @@\n a\n-b\n+b\n" + noNL,
		},
		{
			name: "both lack final newline, last line changed", old: []byte("a\nb"), new: []byte("a\nc"), context: 3,
			want: "--- old\n+++ new\n@@ -1,2 +1,2 @@\n a\n-b\n" + noNL + "+c\n" + noNL,
		},
		{
			name: "unchanged last line without newline as context", old: []byte("a\nb"), new: []byte("A\nb"), context: 3,
			want: "--- old\n+++ new\n@@ -1,2 +1,2 @@\n-a\n+A\n b\n" + noNL,
		},
		{
			name: "created without final newline", old: nil, new: []byte("x"), context: 3,
			want: "--- old\n+++ new\n@@ -0,0 +1 @@\n+x\n" + noNL,
		},
		{
			name: "two hunks", old: tenWith(nil), new: tenWith(map[int]string{1: "two", 8: "nine"}), context: 1,
			want: "--- old\n+++ new\n" +
				"@@ -1,3 +1,3 @@\n 1\n-2\n+two\n 3\n" +
				"@@ -8,3 +8,3 @@\n 8\n-9\n+nine\n 10\n",
		},
		{
			// Changes on lines 2 and 5 leave 2 unchanged lines between
			// them, exactly 2*context: the hunks merge.
			name: "merged hunks", old: tenWith(nil), new: tenWith(map[int]string{1: "two", 4: "five"}), context: 1,
			want: "--- old\n+++ new\n" +
				"@@ -1,6 +1,6 @@\n 1\n-2\n+two\n 3\n 4\n-5\n+five\n 6\n",
		},
		{
			// 3 unchanged lines between the changes, more than 2*context.
			name: "not merged", old: tenWith(nil), new: tenWith(map[int]string{1: "two", 5: "six"}), context: 1,
			want: "--- old\n+++ new\n" +
				"@@ -1,3 +1,3 @@\n 1\n-2\n+two\n 3\n" +
				"@@ -5,3 +5,3 @@\n 5\n-6\n+six\n 7\n",
		},
		{
			name: "context 0", old: tenWith(nil), new: tenWith(map[int]string{1: "two", 2: "three", 5: "six"}), context: 0,
			want: "--- old\n+++ new\n" +
				"@@ -2,2 +2,2 @@\n-2\n-3\n+two\n+three\n" +
				"@@ -6 +6 @@\n-6\n+six\n",
		},
		{
			name: "context 0 pure insertion and deletion", old: lines("a", "b", "c", "d"), new: lines("a", "x", "b", "c"), context: 0,
			want: "--- old\n+++ new\n" +
				"@@ -1,0 +2 @@\n+x\n" +
				"@@ -4 +4,0 @@\n-d\n",
		},
		{
			name: "context 0 insertion at top", old: lines("b"), new: lines("a", "b"), context: 0,
			want: "--- old\n+++ new\n@@ -0,0 +1 @@\n+a\n",
		},
		{
			name: "context 1", old: tenWith(nil), new: tenWith(map[int]string{4: "five"}), context: 1,
			want: "--- old\n+++ new\n@@ -4,3 +4,3 @@\n 4\n-5\n+five\n 6\n",
		},
		{
			name: "context 3 clipped at both ends", old: lines("a", "b", "c"), new: lines("a", "x", "c"), context: 3,
			want: "--- old\n+++ new\n@@ -1,3 +1,3 @@\n a\n-b\n+x\n c\n",
		},
		{
			name: "negative context is 0", old: lines("a", "b", "c"), new: lines("a", "x", "c"), context: -2,
			want: "--- old\n+++ new\n@@ -2 +2 @@\n-b\n+x\n",
		},
		{
			name: "deletions come before insertions", old: lines("a", "b", "c"), new: lines("x", "b", "y"), context: 3,
			want: "--- old\n+++ new\n@@ -1,3 +1,3 @@\n-a\n+x\n b\n-c\n+y\n",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Unified("old", "new", tc.old, tc.new, tc.context)
			if got != tc.want {
				t.Fatalf("Unified:\n%s\nwant:\n%s", got, tc.want)
			}
			if got != "" {
				checkApplies(t, tc.old, tc.new, got, max(tc.context, 0))
			}
		})
	}
}

func TestUnifiedNames(t *testing.T) {
	got := Unified("/etc/a.conf", "/etc/b.conf", lines("x"), lines("y"), 3)
	want := "--- /etc/a.conf\n+++ /etc/b.conf\n@@ -1 +1 @@\n-x\n+y\n"
	if got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

// TestUnifiedProperty diffs random inputs and checks that the output is well
// formed, reproduces new when applied to old, and is minimal.
func TestUnifiedProperty(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for iter := 0; iter < 600; iter++ {
		old, new := randomPair(rng)
		context := rng.IntN(6)
		d := Unified("a/f", "b/f", old, new, context)
		if bytes.Equal(old, new) {
			if d != "" {
				t.Fatalf("iter %d: identical inputs gave a diff:\n%s", iter, d)
			}
			continue
		}
		if d == "" {
			t.Fatalf("iter %d: no diff for %q -> %q", iter, old, new)
		}
		p, err := parseUnified(d, "a/f", "b/f")
		if err != nil {
			t.Fatalf("iter %d: %v\nold %q\nnew %q\ndiff:\n%s", iter, err, old, new, d)
		}
		got, err := p.apply(old, context)
		if err != nil {
			t.Fatalf("iter %d: apply: %v\nold %q\nnew %q\ndiff:\n%s", iter, err, old, new, d)
		}
		if !bytes.Equal(got, new) {
			t.Fatalf("iter %d: applying the diff gave %q, want %q\nold %q\ndiff:\n%s", iter, got, new, old, d)
		}
		// Minimality, against a plain LCS table.
		a, b := splitLines(old), splitLines(new)
		l := lcsLen(a, b)
		if p.removed != len(a)-l || p.added != len(b)-l {
			t.Fatalf("iter %d: %d removed and %d added lines, minimal is %d and %d\nold %q\nnew %q\ndiff:\n%s",
				iter, p.removed, p.added, len(a)-l, len(b)-l, old, new, d)
		}
	}
}

// randomPair builds inputs from a small alphabet so that lines repeat,
// often with new derived from old by a few edits.
func randomPair(rng *rand.Rand) (old, new []byte) {
	alpha := []string{"a", "b", "c", "d", "e", "f"}[:1+rng.IntN(5)]
	randLines := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = alpha[rng.IntN(len(alpha))]
		}
		return out
	}
	a := randLines(rng.IntN(25))
	var b []string
	switch rng.IntN(3) {
	case 0:
		b = randLines(rng.IntN(25))
	default:
		b = append(b, a...)
		for edits := rng.IntN(6); edits > 0; edits-- {
			pos := 0
			if len(b) > 0 {
				pos = rng.IntN(len(b) + 1)
			}
			switch op := rng.IntN(3); {
			case op == 0 || len(b) == pos:
				b = append(b[:pos], append(randLines(1+rng.IntN(3)), b[pos:]...)...)
			case op == 1:
				b = append(b[:pos], b[pos+1:]...)
			default:
				b[pos] = alpha[rng.IntN(len(alpha))]
			}
		}
	}
	old, new = lines(a...), lines(b...)
	if rng.IntN(4) == 0 {
		old = noEOL(old)
	}
	if rng.IntN(4) == 0 {
		new = noEOL(new)
	}
	return old, new
}

// lcsLen is the textbook dynamic program for the longest common subsequence.
func lcsLen(a, b []string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			switch {
			case a[i-1] == b[j-1]:
				cur[j] = prev[j-1] + 1
			case prev[j] >= cur[j-1]:
				cur[j] = prev[j]
			default:
				cur[j] = cur[j-1]
			}
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func TestUnifiedMinimal(t *testing.T) {
	chars := func(s string) []byte {
		var out []string
		for _, r := range s {
			out = append(out, string(r))
		}
		return lines(out...)
	}
	tests := []struct {
		old, new       []byte
		removed, added int
	}{
		// The example of Myers' paper: edit distance 5.
		{chars("abcabba"), chars("cbabac"), 3, 2},
		{chars("abcdef"), chars("abcdef"), 0, 0},
		{chars("abcdef"), chars("fedcba"), 5, 5},
		{chars("abcdef"), chars("xyz"), 6, 3},
		{chars("aaaaaaaa"), chars("aaaa"), 4, 0},
		{chars("abababab"), chars("babababa"), 1, 1},
		{chars("xaxbxcx"), chars("abc"), 4, 0},
		{chars("abc"), chars("xaxbxcx"), 0, 4},
		{chars("kitten"), chars("sitting"), 2, 3},
	}
	for _, tc := range tests {
		d := Unified("o", "n", tc.old, tc.new, 2)
		if tc.removed+tc.added == 0 {
			if d != "" {
				t.Errorf("%q -> %q: want no diff, got\n%s", tc.old, tc.new, d)
			}
			continue
		}
		p, err := parseUnified(d, "o", "n")
		if err != nil {
			t.Fatalf("%q -> %q: %v\n%s", tc.old, tc.new, err, d)
		}
		if p.removed != tc.removed || p.added != tc.added {
			t.Errorf("%q -> %q: %d removed, %d added; want %d, %d\n%s",
				tc.old, tc.new, p.removed, p.added, tc.removed, tc.added, d)
		}
		checkApplies(t, tc.old, tc.new, d, 2)
	}
}

// TestUnifiedSizeGuard checks that a middle part needing more than maxEdits
// edits is shown as replaced wholesale, while common head and tail lines
// stay context, and that the bound is on edits rather than file size.
func TestUnifiedSizeGuard(t *testing.T) {
	// head + (x_i, c_i)... + z + tail  ->  head + (y_i, c_i)... + w + tail:
	// the minimal script keeps every c_i and needs 2*(pairs+1) edits.
	build := func(pairs int) (old, new []byte) {
		var a, b []string
		for i := 0; i < 5; i++ {
			a = append(a, fmt.Sprintf("head%d", i))
		}
		b = append(b, a...)
		for i := 0; i < pairs; i++ {
			a = append(a, fmt.Sprintf("x%d", i), fmt.Sprintf("c%d", i))
			b = append(b, fmt.Sprintf("y%d", i), fmt.Sprintf("c%d", i))
		}
		a, b = append(a, "z"), append(b, "w")
		for i := 0; i < 5; i++ {
			a = append(a, fmt.Sprintf("tail%d", i))
			b = append(b, fmt.Sprintf("tail%d", i))
		}
		return lines(a...), lines(b...)
	}

	t.Run("over the bound", func(t *testing.T) {
		pairs := maxEdits/2 + 100
		old, new := build(pairs)
		d := Unified("o", "n", old, new, 3)
		p, err := parseUnified(d, "o", "n")
		if err != nil {
			t.Fatal(err)
		}
		mid := 2*pairs + 1
		if p.removed != mid || p.added != mid {
			t.Fatalf("removed %d, added %d; want the whole middle (%d lines) replaced", p.removed, p.added, mid)
		}
		if len(p.hunks) != 1 {
			t.Fatalf("%d hunks, want 1", len(p.hunks))
		}
		wantHeader := fmt.Sprintf("@@ -3,%d +3,%d @@", mid+6, mid+6)
		if h := strings.SplitN(d, "\n", 4)[2]; h != wantHeader {
			t.Fatalf("hunk header %q, want %q", h, wantHeader)
		}
		body := strings.Join(strings.Split(d, "\n")[3:], "\n")
		if !strings.HasPrefix(body, " head2\n head3\n head4\n-x0\n-c0\n") {
			t.Fatalf("hunk should open with 3 context lines, then all removals:\n%.200s", body)
		}
		if !strings.HasSuffix(body, "+w\n tail0\n tail1\n tail2\n") {
			t.Fatalf("hunk should end with the additions, then 3 context lines:\n...%s", body[len(body)-100:])
		}
		checkApplies(t, old, new, d, 3)
	})

	t.Run("within the bound", func(t *testing.T) {
		pairs := maxEdits/2 - 100
		old, new := build(pairs)
		d := Unified("o", "n", old, new, 3)
		p, err := parseUnified(d, "o", "n")
		if err != nil {
			t.Fatal(err)
		}
		if p.removed != pairs+1 || p.added != pairs+1 {
			t.Fatalf("removed %d, added %d; want the minimal %d each", p.removed, p.added, pairs+1)
		}
		checkApplies(t, old, new, d, 3)
	})

	t.Run("length difference alone exceeds the bound", func(t *testing.T) {
		var b []string
		for i := 0; i < maxEdits+500; i++ {
			b = append(b, fmt.Sprintf("n%d", i))
		}
		b[700] = "keep" // would be kept by a minimal diff
		old, new := lines("keep"), lines(b...)
		d := Unified("o", "n", old, new, 3)
		p, err := parseUnified(d, "o", "n")
		if err != nil {
			t.Fatal(err)
		}
		if p.removed != 1 || p.added != len(b) {
			t.Fatalf("removed %d, added %d; want 1 and %d", p.removed, p.added, len(b))
		}
		checkApplies(t, old, new, d, 3)
	})

	t.Run("large file with few changes is exact and fast", func(t *testing.T) {
		var a []string
		for i := 0; i < 50000; i++ {
			a = append(a, fmt.Sprintf("line %d", i))
		}
		b := append([]string(nil), a...)
		b[10] = "changed near the top"
		b[49990] = "changed near the bottom"
		b = append(b[:25000], b[25001:]...)
		start := time.Now()
		d := Unified("o", "n", lines(a...), lines(b...), 3)
		if el := time.Since(start); el > 5*time.Second {
			t.Errorf("took %v", el)
		}
		p, err := parseUnified(d, "o", "n")
		if err != nil {
			t.Fatal(err)
		}
		if len(p.hunks) != 3 || p.removed != 3 || p.added != 2 {
			t.Fatalf("%d hunks, %d removed, %d added; want 3, 3, 2\n%s", len(p.hunks), p.removed, p.added, d)
		}
		checkApplies(t, lines(a...), lines(b...), d, 3)
	})
}

// skipUnlessCI skips a comparison this machine cannot make; under CI=true
// (where the tools are installed) that is a failure, not a skip.
func skipUnlessCI(t *testing.T, why string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatal("CI=true: " + why)
	}
	t.Skip(why)
}

// TestUnifiedAgainstDiff compares with the system's `diff -u` on inputs
// whose optimal matching is unique: every line is distinct within its
// file and the common lines appear in the same order in both, so the set
// of unchanged lines is forced and only the presentation is compared.
func TestUnifiedAgainstDiff(t *testing.T) {
	diffPath, err := exec.LookPath("diff")
	if err != nil {
		skipUnlessCI(t, "no diff on PATH")
	}
	dir := t.TempDir()
	oldPath, newPath := filepath.Join(dir, "old"), filepath.Join(dir, "new")
	rng := rand.New(rand.NewPCG(3, 4))
	for iter := 0; iter < 150; iter++ {
		var a, b []string
		for i := rng.IntN(30); i > 0; i-- {
			a = append(a, fmt.Sprintf("old%d", len(a)))
		}
		fresh := 0
		for _, l := range a {
			switch rng.IntN(6) {
			case 0: // dropped
				continue
			case 1: // new lines inserted before it
				for k := 1 + rng.IntN(3); k > 0; k-- {
					b = append(b, fmt.Sprintf("new%d", fresh))
					fresh++
				}
			}
			b = append(b, l)
		}
		if rng.IntN(4) == 0 {
			b = append(b, fmt.Sprintf("new%d", fresh))
		}
		old, new := lines(a...), lines(b...)
		// "x" and "x\n" are distinct lines, so dropping a final newline
		// keeps the matching unique.
		if rng.IntN(4) == 0 {
			old = noEOL(old)
		}
		if rng.IntN(4) == 0 {
			new = noEOL(new)
		}
		context := rng.IntN(5)
		if err := os.WriteFile(oldPath, old, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(newPath, new, 0o600); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(diffPath, "-U", strconv.Itoa(context), "--label", "old", "--label", "new", oldPath, newPath)
		out, err := cmd.Output()
		var ee *exec.ExitError
		if err != nil && !(errors.As(err, &ee) && ee.ExitCode() == 1) {
			skipUnlessCI(t, fmt.Sprintf("diff does not take -U/--label here: %v", err))
		}
		got := Unified("old", "new", old, new, context)
		if got != string(out) {
			t.Fatalf("iter %d (context %d) differs from diff -u\nold %q\nnew %q\ngot:\n%s\ndiff -u:\n%s",
				iter, context, old, new, got, out)
		}
	}
}

func TestColorize(t *testing.T) {
	// The body holds a removed line "-- x" and an added line "++ y"; they
	// must not be taken for headers.
	d := "--- a\n+++ b\n@@ -1,3 +1,3 @@\n ctx\n--- x\n-old\n+++ y\n+new\n\\ No newline at end of file\n"
	want := "\x1b[1m--- a\x1b[0m\n\x1b[1m+++ b\x1b[0m\n\x1b[36m@@ -1,3 +1,3 @@\x1b[0m\n ctx\n" +
		"\x1b[31m--- x\x1b[0m\n\x1b[31m-old\x1b[0m\n\x1b[32m+++ y\x1b[0m\n\x1b[32m+new\x1b[0m\n\\ No newline at end of file\n"
	if got := Colorize(d); got != want {
		t.Fatalf("Colorize:\n%q\nwant\n%q", got, want)
	}
	if got := Colorize(""); got != "" {
		t.Fatalf("Colorize(\"\") = %q", got)
	}
	// Stripping the escapes gives back the input.
	rng := rand.New(rand.NewPCG(5, 6))
	esc := regexp.MustCompile("\x1b\\[[0-9;]*m")
	for i := 0; i < 100; i++ {
		old, new := randomPair(rng)
		d := Unified("a", "b", old, new, rng.IntN(4))
		c := Colorize(d)
		if esc.ReplaceAllString(c, "") != d {
			t.Fatalf("colours do not strip back to the diff:\n%q\n%q", d, c)
		}
		for _, l := range strings.Split(c, "\n") {
			if strings.Contains(l, "\x1b[") && !strings.HasSuffix(l, "\x1b[0m") {
				t.Fatalf("coloured line not reset before its newline: %q", l)
			}
		}
	}
}

// ---- a small, independent unified diff reader used by the tests ----

type hunkLine struct {
	mark byte   // ' ', '-' or '+'
	text string // with its "\n" unless marked as lacking one
}

type hunk struct {
	oldStart, oldCount int // oldStart is 0-based
	newStart, newCount int
	lines              []hunkLine
}

type patch struct {
	hunks          []hunk
	removed, added int
}

var hunkHeader = regexp.MustCompile(`^@@ -(\d+)(,(\d+))? \+(\d+)(,(\d+))? @@$`)

// parseRange decodes "start[,count]" per the unified format: a count of 1
// is written without ",1", an empty range names the line before it.
func parseRange(start, comma, count string) (idx, n int, err error) {
	s, _ := strconv.Atoi(start)
	n = 1
	if comma != "" {
		n, _ = strconv.Atoi(count)
		if n == 1 {
			return 0, 0, fmt.Errorf("count 1 written out as %q", comma)
		}
	}
	if n == 0 {
		return s, 0, nil
	}
	if s < 1 {
		return 0, 0, fmt.Errorf("non-empty range starting at line %d", s)
	}
	return s - 1, n, nil
}

// parseUnified parses a diff and checks each hunk's header counts against
// its body.
func parseUnified(d, oldName, newName string) (*patch, error) {
	if !strings.HasSuffix(d, "\n") {
		return nil, fmt.Errorf("diff does not end with a newline")
	}
	ls := strings.Split(strings.TrimSuffix(d, "\n"), "\n")
	if len(ls) < 3 || ls[0] != "--- "+oldName || ls[1] != "+++ "+newName {
		return nil, fmt.Errorf("bad file headers")
	}
	p := &patch{}
	i := 2
	for i < len(ls) {
		m := hunkHeader.FindStringSubmatch(ls[i])
		if m == nil {
			return nil, fmt.Errorf("line %d: want a hunk header, got %q", i+1, ls[i])
		}
		i++
		var h hunk
		var err error
		if h.oldStart, h.oldCount, err = parseRange(m[1], m[2], m[3]); err != nil {
			return nil, err
		}
		if h.newStart, h.newCount, err = parseRange(m[4], m[5], m[6]); err != nil {
			return nil, err
		}
		oldSeen, newSeen := 0, 0
		for i < len(ls) && (oldSeen < h.oldCount || newSeen < h.newCount) {
			l := ls[i]
			if l == "" {
				return nil, fmt.Errorf("line %d: empty line in hunk", i+1)
			}
			hl := hunkLine{mark: l[0], text: l[1:] + "\n"}
			switch hl.mark {
			case ' ':
				oldSeen++
				newSeen++
			case '-':
				oldSeen++
				p.removed++
			case '+':
				newSeen++
				p.added++
			default:
				return nil, fmt.Errorf("line %d: bad hunk line %q", i+1, l)
			}
			i++
			if i < len(ls) && ls[i] == `\ No newline at end of file` {
				hl.text = strings.TrimSuffix(hl.text, "\n")
				i++
			}
			h.lines = append(h.lines, hl)
		}
		if oldSeen != h.oldCount || newSeen != h.newCount {
			return nil, fmt.Errorf("hunk %q: body has %d old and %d new lines", m[0], oldSeen, newSeen)
		}
		p.hunks = append(p.hunks, h)
	}
	return p, nil
}

// apply applies the patch to old, checking context and removed lines
// against it, the hunk positions, and that the hunks carry exactly the
// context that unified diff with the given context would.
func (p *patch) apply(old []byte, context int) ([]byte, error) {
	a := splitLines(old)
	var out []string
	pos := 0 // next old line to copy
	for hi, h := range p.hunks {
		if h.oldStart < pos || h.oldStart > len(a) {
			return nil, fmt.Errorf("hunk %d starts at old line index %d, after %d", hi, h.oldStart, pos)
		}
		out = append(out, a[pos:h.oldStart]...)
		if h.newStart != len(out) {
			return nil, fmt.Errorf("hunk %d: new start %d, but %d lines precede it", hi, h.newStart, len(out))
		}
		pos = h.oldStart
		// Runs of context: the leading and trailing ones hold min(context,
		// lines available), inner ones more than 0 and at most 2*context.
		var runs []int
		run, changed := 0, false
		for _, l := range h.lines {
			switch l.mark {
			case ' ', '-':
				if pos >= len(a) || a[pos] != l.text {
					return nil, fmt.Errorf("hunk %d: %q does not match old line %d", hi, l.text, pos+1)
				}
				pos++
			}
			if l.mark == ' ' {
				run++
				out = append(out, l.text)
				continue
			}
			if run > 0 || !changed {
				runs = append(runs, run)
			}
			run, changed = 0, true
			if l.mark == '+' {
				out = append(out, l.text)
			}
		}
		runs = append(runs, run)
		if !changed {
			return nil, fmt.Errorf("hunk %d has no changes", hi)
		}
		if want := min(context, h.oldStart+runs[0]); runs[0] != want {
			return nil, fmt.Errorf("hunk %d: %d leading context lines, want %d", hi, runs[0], want)
		}
		if want := min(context, len(a)-pos+runs[len(runs)-1]); runs[len(runs)-1] != want {
			return nil, fmt.Errorf("hunk %d: %d trailing context lines, want %d", hi, runs[len(runs)-1], want)
		}
		for _, r := range runs[1 : len(runs)-1] {
			if r == 0 || r > 2*context {
				return nil, fmt.Errorf("hunk %d: inner run of %d context lines with context %d", hi, r, context)
			}
		}
		if hi > 0 {
			// Unchanged lines between this hunk's first change and the
			// previous hunk's last change must exceed 2*context.
			prev := p.hunks[hi-1]
			prevEnd := prev.oldStart + prev.oldCount
			gap := (h.oldStart - prevEnd) + runs[0] + trailingContext(prev)
			if gap <= 2*context {
				return nil, fmt.Errorf("hunks %d and %d are %d unchanged lines apart, should be one hunk", hi-1, hi, gap)
			}
		}
	}
	out = append(out, a[pos:]...)
	return []byte(strings.Join(out, "")), nil
}

func trailingContext(h hunk) int {
	n := 0
	for i := len(h.lines) - 1; i >= 0 && h.lines[i].mark == ' '; i-- {
		n++
	}
	return n
}

// checkApplies parses d and applies it to old, expecting new.
func checkApplies(t *testing.T, old, new []byte, d string, context int) {
	t.Helper()
	p, err := parseUnified(d, firstName(d), secondName(d))
	if err != nil {
		t.Fatalf("parse: %v\n%s", err, d)
	}
	got, err := p.apply(old, context)
	if err != nil {
		t.Fatalf("apply: %v\n%s", err, d)
	}
	if !bytes.Equal(got, new) {
		t.Fatalf("applying the diff gave %q, want %q\n%s", got, new, d)
	}
}

func firstName(d string) string {
	l, _, _ := strings.Cut(d, "\n")
	return strings.TrimPrefix(l, "--- ")
}

func secondName(d string) string {
	_, rest, _ := strings.Cut(d, "\n")
	l, _, _ := strings.Cut(rest, "\n")
	return strings.TrimPrefix(l, "+++ ")
}
