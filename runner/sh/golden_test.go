package sh

import (
	"errors"
	"testing"
)

func TestQuoteGolden(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"plain word", "ens33.10", "ens33.10"},
		{"address and port", "192.168.1.11:5000/busybox:v1", "192.168.1.11:5000/busybox:v1"},
		{"safe punctuation", "a_b@c%d+e=f,g", "a_b@c%d+e=f,g"},
		{"leading dash stays bare", "-itd", "-itd"},
		{"empty", "", "''"},
		{"single quote", "it's", `'it'\''s'`},
		{"only a quote", "'", `''\'''`},
		{"dollar", "$HOME", "'$HOME'"},
		{"backticks", "`id`", "'`id`'"},
		{"command substitution", "$(id)", "'$(id)'"},
		{"semicolon", "a;b", "'a;b'"},
		{"pipe", "a|b", "'a|b'"},
		{"ampersand", "a&b", "'a&b'"},
		{"newline", "a\nb", "'a\nb'"},
		{"tab", "a\tb", "'a\tb'"},
		{"space", "a b", "'a b'"},
		{"unicode", "ネットワーク", "'ネットワーク'"},
		{"glob", "*", "'*'"},
		{"tilde", "~", "'~'"},
		{"bang", "!", "'!'"},
		{"double quote and backslash", `"\`, `'"\'`},
		{"redirect", "2>/dev/null", "'2>/dev/null'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Quote(tt.in); got != tt.want {
				t.Errorf("Quote(%q) = %s, want %s", tt.in, got, tt.want)
			}
		})
	}
}

func TestCommandGolden(t *testing.T) {
	tests := []struct {
		name string
		cmd  Command
		want string
	}{
		{"new quotes every arg", New("ip", "link", "set", "ens33", "promisc", "on"), "ip link set ens33 promisc on"},
		{"new quotes the name too", New("my prog", "x"), "'my prog' x"},
		{"arg", New("docker", "run").Arg("--name", "bbox 10"), "docker run --name 'bbox 10'"},
		{"raw is not quoted", New("modinfo", "8021q").Raw(">/dev/null").Raw("2>&1"), "modinfo 8021q >/dev/null 2>&1"},
		{"raw pipe", New("cat", "/etc/hostname").Raw("|").Arg("tr", "a-z", "A-Z"), "cat /etc/hostname | tr a-z A-Z"},
		{"join", Join(New("systemctl", "daemon-reload"), New("systemctl", "restart", "docker")), "systemctl daemon-reload && systemctl restart docker"},
		{"join one", Join(New("true")), "true"},
		{"join none", Join(), ""},
		{"zero command", Command{}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.cmd.String(); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
			if err := tt.cmd.Err(); err != nil {
				t.Errorf("Err() = %v", err)
			}
		})
	}
}

func TestScript(t *testing.T) {
	got := Script(New("set", "-e"), New("echo", "a b"), Join(New("true"), New("false")))
	want := "set -e\necho 'a b'\ntrue && false"
	if got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// Commands built from one prefix must not share a backing array: appending
// to one would silently rewrite the other.
func TestSharedPrefixIsNotAliased(t *testing.T) {
	base := New("docker", "network")
	for range 4 { // grow capacity past the first append
		base = base.Arg("x")
	}
	a := base.Arg("create")
	b := base.Arg("rm")
	if a.String() != "docker network x x x x create" || b.String() != "docker network x x x x rm" {
		t.Errorf("a = %q, b = %q", a, b)
	}
}

func TestNULIsRecorded(t *testing.T) {
	tests := map[string]Command{
		"new":  New("echo", "a\x00b"),
		"arg":  New("echo").Arg("ok", "\x00"),
		"raw":  New("echo").Raw("\x00"),
		"join": Join(New("true"), New("echo", "\x00")),
	}
	for name, c := range tests {
		if !errors.Is(c.Err(), ErrNUL) {
			t.Errorf("%s: Err() = %v, want ErrNUL", name, c.Err())
		}
		if c.String() == "" {
			t.Errorf("%s: String() is empty, want the text for messages", name)
		}
	}
	if err := New("echo", "fine").Arg("also fine").Err(); err != nil {
		t.Errorf("clean command: Err() = %v", err)
	}
}

func TestSystemdEscapeArgGolden(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"plain", "--insecure-registry", "--insecure-registry"},
		{"address", "192.168.1.11:5000", "192.168.1.11:5000"},
		{"path", "/usr/bin/dockerd", "/usr/bin/dockerd"},
		{"empty", "", `""`},
		{"space", "a b", `"a b"`},
		{"tab", "a\tb", `"a\tb"`},
		{"newline", "a\nb", `"a\nb"`},
		{"double quote", `say "hi"`, `"say \"hi\""`},
		{"single quote", "it's", `"it's"`},
		{"backslash", `a\b`, `"a\\b"`},
		{"dollar doubled", "$HOME", "$$HOME"},
		{"dollar braces", "${X}", "$${X}"},
		{"percent doubled", "100%", "100%%"},
		{"specifier", "%n", "%%n"},
		{"dollar with space", "$A B", `"$$A B"`},
		{"lone semicolon", ";", `";"`},
		{"semicolon inside", "a;b", "a;b"},
		{"control byte", "a\x01b", `"a\x01b"`},
		{"unicode", "ネット", "ネット"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := SystemdEscapeArg(tt.in); got != tt.want {
				t.Errorf("SystemdEscapeArg(%q) = %s, want %s", tt.in, got, tt.want)
			}
		})
	}
}
