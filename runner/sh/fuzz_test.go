package sh

import (
	"os/exec"
	"strings"
	"testing"
)

// FuzzQuote checks the one property that matters: whatever the string, the
// shell reads Quote's output back as exactly that string. The seeds run in
// every plain `go test`; `go test -fuzz FuzzQuote ./runner/sh` explores more.
func FuzzQuote(f *testing.F) {
	for _, s := range []string{
		"", "plain", "it's", "'", "''", `'\''`, "$HOME", "`id`", "$(id)", "a;b", "a|b",
		"a&b", "a\nb", "a\tb", "a b", "-n", "--", "-e", "ネットワーク", "*", "~", "~root", "!", "!!",
		`"\`, "\\", "%s", "2>/dev/null", "\xff\xfe", "a\r\n", " ", "#comment", "{a,b}", "[a]",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if strings.IndexByte(s, 0) >= 0 {
			t.Skip("NUL cannot reach a shell; Command records ErrNUL instead")
		}
		out, err := exec.Command("/bin/sh", "-c", "printf %s "+Quote(s)).Output()
		if err != nil {
			t.Fatalf("sh -c printf %%s %s: %v", Quote(s), err)
		}
		if string(out) != s {
			t.Fatalf("Quote(%q) = %s: shell read back %q", s, Quote(s), out)
		}
	})
}
