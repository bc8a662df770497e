package inventory

import (
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
)

// tricky holds what could fool a line-based scanner: headers and keys inside
// strings and comments, quoted and dotted keys, inline tables over several
// lines (TOML 1.1), arrays of inline tables, nested arrays of tables, a date
// with a space.
const tricky = `# comment [[fake]]
title = """
[[host]]
name = "x" """
lit = '''
a = 1'''
[[host]] # first
name = "a" # "quoted" ]
"quoted.key" = 'v#'
dotted.inner = 1
[[host]]
name = "b\"c"
[ "vlan" ]
hosts = {
  a = "1",
  "b.c" = { d = 2 },
}
arr = [
  { x = 1 },   # c
  { y = [ { z = 3 } ] },
]
when = 1979-05-27 07:32:00Z
[[vlan.sub]]
k = 1
[[vlan.sub]]
k = 2
[vlan.sub.deep]   # under the last vlan.sub
m = 1
`

var trickyLines = map[string]int{
	"title":                2,
	"lit":                  5,
	"host":                 7,
	"host[1]":              7,
	"host[1].name":         8,
	`host[1]."quoted.key"`: 9,
	"host[1].dotted":       10,
	"host[1].dotted.inner": 10,
	"host[2]":              11,
	"host[2].name":         12,
	"vlan":                 13,
	"vlan.hosts":           14,
	"vlan.hosts.a":         15,
	`vlan.hosts."b.c"`:     16,
	`vlan.hosts."b.c".d`:   16,
	"vlan.arr":             18,
	"vlan.arr[1].x":        19,
	"vlan.arr[2].y":        20,
	"vlan.arr[2].y[1].z":   20,
	"vlan.when":            22,
	"vlan.sub":             23,
	"vlan.sub[1]":          23,
	"vlan.sub[1].k":        24,
	"vlan.sub[2]":          25,
	"vlan.sub[2].k":        26,
	"vlan.sub[2].deep":     27,
	"vlan.sub[2].deep.m":   28,
}

func linesOf(t *testing.T, src string) map[string]int {
	t.Helper()
	var tree map[string]any
	md, err := toml.Decode(src, &tree)
	if err != nil {
		t.Fatalf("decoding: %v", err)
	}
	return keyLines(src, md)
}

func TestKeyLines(t *testing.T) {
	for name, src := range map[string]string{
		"LF":   tricky,
		"CRLF": strings.ReplaceAll(tricky, "\n", "\r\n"),
	} {
		t.Run(name, func(t *testing.T) {
			got := linesOf(t, src)
			if got == nil {
				t.Fatal("scanner and parser disagree on the keys")
			}
			for _, k := range slices.Sorted(maps.Keys(trickyLines)) {
				if got[k] != trickyLines[k] {
					t.Errorf("line of %s = %d, want %d", k, got[k], trickyLines[k])
				}
			}
			if len(got) != len(trickyLines) {
				t.Errorf("got %d keys, want %d: %v", len(got), len(trickyLines), got)
			}
		})
	}
}

// Every fixture must be scanned in agreement with the parser, or its
// problems would lose their lines.
func TestKeyLinesAgreeOnFixtures(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.toml")
	files = append(files, "../inventory.toml.example", "../examples/section-4.1.toml")
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if linesOf(t, string(data)) == nil {
			t.Errorf("%s: scanner and parser disagree on the keys", f)
		}
	}
}

func TestKeyLinesRefusesDisagreement(t *testing.T) {
	var tree map[string]any
	md, err := toml.Decode("a = 1\nb = 2\n", &tree)
	if err != nil {
		t.Fatal(err)
	}
	if got := keyLines("a = 1\n", md); got != nil {
		t.Errorf("keyLines = %v, want nil when the scanner misses a key", got)
	}
}

func TestParentKey(t *testing.T) {
	for key, want := range map[string]string{
		"vlan[1].hosts.docker01":       "vlan[1].hosts",
		`vlan[1].hosts."docker01.lab"`: "vlan[1].hosts",
		"vlan[1].hosts":                "vlan[1]",
		"vlan[1]":                      "vlan",
		"vlan":                         "",
	} {
		if got := parentKey(key); got != want {
			t.Errorf("parentKey(%q) = %q, want %q", key, got, want)
		}
	}
}
