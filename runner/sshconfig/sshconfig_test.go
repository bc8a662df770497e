package sshconfig

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"
)

const fakeHome = "/home/me"

// writeFiles creates files (paths relative to home) with mode 0600, which
// the permission check requires whatever the umask.
func writeFiles(t *testing.T, home string, files map[string]string) {
	t.Helper()
	for name, text := range files {
		path := filepath.Join(home, filepath.FromSlash(name))
		if strings.HasSuffix(name, "/") {
			if err := os.MkdirAll(path, 0o700); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(path, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

func parseText(t *testing.T, text, home string) *Config {
	t.Helper()
	c, err := Parse(strings.NewReader(text), "cfg", home)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	c.localUser = "me" // %u, and %r without User
	return c
}

func TestLookup(t *testing.T) {
	type lookup struct {
		alias string
		want  Host
	}
	tests := []struct {
		name    string
		config  string
		files   map[string]string // relative to a temporary home; fakeHome if none
		env     map[string]string
		lookups []lookup
	}{
		{
			name: "first obtained value wins",
			config: `
Host web
  User alice
  Port 2200
Host web
  User bob
  HostName web.internal
Host *
  User carol
  Port 22
`,
			lookups: []lookup{
				{"web", Host{User: "alice", Port: 2200, HostName: "web.internal"}},
				{"db", Host{User: "carol", Port: 22}},
			},
		},
		{
			name: "lines before the first Host apply to every alias and win",
			config: `
User everyone
Host web
  User webuser
  Port 2222
`,
			lookups: []lookup{
				{"web", Host{User: "everyone", Port: 2222}},
				{"db", Host{User: "everyone"}},
			},
		},
		{
			name: "Host * defaults after specific blocks fill what they leave unset",
			config: `
Host web
  StrictHostKeyChecking accept-new
  ConnectTimeout 5
Host *
  User ops
  StrictHostKeyChecking yes
  ConnectTimeout 30
  IdentitiesOnly yes
  ProxyJump bastion
`,
			lookups: []lookup{
				{"web", Host{User: "ops", StrictHostKeyChecking: "accept-new", ConnectTimeout: 5 * time.Second, IdentitiesOnly: true, ProxyJump: "bastion"}},
				{"db", Host{User: "ops", StrictHostKeyChecking: "yes", ConnectTimeout: 30 * time.Second, IdentitiesOnly: true, ProxyJump: "bastion"}},
			},
		},
		{
			name: "IdentityFile accumulates in order, repeats and none dropped",
			config: `
Host web
  IdentityFile ~/.ssh/web
  IdentityFile ~/.ssh/shared
Host *
  IdentityFile ~/.ssh/shared
  IdentityFile none
  IdentityFile /keys/id_%h
`,
			lookups: []lookup{
				{"web", Host{IdentityFiles: []string{"/home/me/.ssh/web", "/home/me/.ssh/shared", "/keys/id_web"}}},
				{"db", Host{IdentityFiles: []string{"/home/me/.ssh/shared", "/keys/id_db"}}},
			},
		},
		{
			name: "negation excludes the block; negations alone match nothing",
			config: `
Host * !bastion !*.local
  ProxyJump bastion
Host !db
  User never
`,
			lookups: []lookup{
				{"app", Host{ProxyJump: "bastion"}},
				{"bastion", Host{}},
				{"printer.local", Host{}},
				{"db", Host{ProxyJump: "bastion"}}, // and not User never
			},
		},
		{
			name: "wildcards, several patterns, case-sensitive, comma is not a separator",
			config: `
Host *.prod.example.com web? db-*-1
  User ops
Host a,b
  User comma
Host CAPS
  User caps
`,
			lookups: []lookup{
				{"x.prod.example.com", Host{User: "ops"}},
				{"prod.example.com", Host{}},
				{"web1", Host{User: "ops"}},
				{"web12", Host{}},
				{"db-eu-1", Host{User: "ops"}},
				{"db--1", Host{User: "ops"}},
				{"a", Host{}},
				{"a,b", Host{User: "comma"}},
				{"caps", Host{}},
				{"CAPS", Host{User: "caps"}},
			},
		},
		{
			name: "quotes, escapes and the = form",
			config: `
Host="quoted host" plain
  IdentityFile "~/.ssh/my key"
  IdentityFile ~/.ssh/back\ slash
  IdentityFile ~/.ssh/"mid"'dle'
  User = 'bob'
  Port=2222
  HostName= "Example.com"
`,
			lookups: []lookup{
				{"plain", Host{User: "bob", Port: 2222, HostName: "example.com",
					IdentityFiles: []string{"/home/me/.ssh/my key", "/home/me/.ssh/back slash", "/home/me/.ssh/middle"}}},
				{"quoted host", Host{User: "bob", Port: 2222, HostName: "example.com",
					IdentityFiles: []string{"/home/me/.ssh/my key", "/home/me/.ssh/back slash", "/home/me/.ssh/middle"}}},
				{"quoted", Host{}},
			},
		},
		{
			name: "comments",
			config: "# full-line comment\n" +
				"   # indented comment\n" +
				"Host web # trailing comment\n" +
				"  User bob#1 # a '#' inside a word is not a comment\n" +
				"  Port 2022\t# after a tab\n" +
				"  IdentityFile \"~/.ssh/#key\" #quoted '#' is literal\n",
			lookups: []lookup{
				{"web", Host{User: "bob#1", Port: 2022, IdentityFiles: []string{"/home/me/.ssh/#key"}}},
				{"comment", Host{}},
				{"#", Host{}},
			},
		},
		{
			name:   "CRLF line endings",
			config: "Host web\r\n  User bob\r\n  Port 2222\r\n",
			lookups: []lookup{
				{"web", Host{User: "bob", Port: 2222}},
			},
		},
		{
			name: "keywords are case-insensitive, other keywords ignored",
			config: `
hOsT web
  ForwardAgent yes
  ControlPath ~/.ssh/cm-%C
  SomeFutureOption
  HOSTNAME Web.Example.com
  identityFile ~/.ssh/id
  USER bob
  stricthostkeychecking Off
`,
			lookups: []lookup{
				{"web", Host{HostName: "web.example.com", User: "bob", IdentityFiles: []string{"/home/me/.ssh/id"}, StrictHostKeyChecking: "no"}},
			},
		},
		{
			name: "tokens in paths and HostName",
			config: `
Host web*
  HostName %h.Example.COM
  User deploy
  Port 2222
  IdentityFile %d/keys/%r@%h:%p
  IdentityFile ~/keys/%u-%n-%%
  UserKnownHostsFile ~/.ssh/kh_%h ${SSHCONFIG_TEST_DIR}/kh
Host *
  IdentityFile ~/.ssh/%r_%p_%h
`,
			env: map[string]string{"SSHCONFIG_TEST_DIR": "/env/dir"},
			lookups: []lookup{
				{"web1", Host{HostName: "web1.example.com", User: "deploy", Port: 2222,
					IdentityFiles: []string{
						"/home/me/keys/deploy@web1.example.com:2222",
						"/home/me/keys/me-web1-%",
						"/home/me/.ssh/deploy_2222_web1.example.com",
					},
					UserKnownHostsFiles: []string{"/home/me/.ssh/kh_web1.example.com", "/env/dir/kh"}}},
				// No User or Port: %r is the local user, %p 22; %h is
				// the alias lower-cased, as ssh connects to it.
				{"MyBox", Host{IdentityFiles: []string{"/home/me/.ssh/me_22_mybox"}}},
				// Addresses keep their case.
				{"FE80::1", Host{IdentityFiles: []string{"/home/me/.ssh/me_22_FE80::1"}}},
			},
		},
		{
			name: "~user",
			config: `
IdentityFile ~alice/.ssh/id
`,
			lookups: []lookup{
				{"web", Host{IdentityFiles: []string{"/home/alice/.ssh/id"}}},
			},
		},
		{
			name: "Match applies where it stands, first value wins",
			config: `
Host web
  User webuser
Match host web
  User matched
  Port 1
Host *
  Port 2
`,
			lookups: []lookup{
				{"web", Host{User: "webuser", Port: 1}},
				{"db", Host{Port: 2}},
			},
		},
		{
			name: "StrictHostKeyChecking synonyms",
			config: `
Host a
  StrictHostKeyChecking TRUE
Host b
  StrictHostKeyChecking false
Host c
  StrictHostKeyChecking ask
`,
			lookups: []lookup{
				{"a", Host{StrictHostKeyChecking: "yes"}},
				{"b", Host{StrictHostKeyChecking: "no"}},
				{"c", Host{StrictHostKeyChecking: "ask"}},
			},
		},
		{
			name: "zero, no and none values still win or explicitly do not",
			config: `
Host web
  ConnectTimeout 0
  IdentitiesOnly no
  ProxyJump none
Host db
  ConnectTimeout none
Host *
  ConnectTimeout 1m30s
  IdentitiesOnly yes
  ProxyJump jump@b1:2222,b2 # via the office
`,
			lookups: []lookup{
				{"web", Host{}},
				// ConnectTimeout none leaves the option unset, so the
				// later value still applies (ssh does the same).
				{"db", Host{ConnectTimeout: 90 * time.Second, IdentitiesOnly: true, ProxyJump: "jump@b1:2222,b2"}},
			},
		},
		{
			name: "UserKnownHostsFile: one line, first wins whole",
			config: `
Host web
  UserKnownHostsFile ~/.ssh/kh1 /etc/kh2
Host ci
  UserKnownHostsFile none
Host *
  UserKnownHostsFile ~/.ssh/other
`,
			lookups: []lookup{
				{"web", Host{UserKnownHostsFiles: []string{"/home/me/.ssh/kh1", "/etc/kh2"}}},
				{"ci", Host{UserKnownHostsFiles: []string{"none"}}},
				{"db", Host{UserKnownHostsFiles: []string{"/home/me/.ssh/other"}}},
			},
		},
		{
			name: "Include: relative to ~/.ssh, absolute, and ~",
			config: `
Include extra.conf
Include ~/elsewhere/tilde.conf
Host *
  User fallback
`,
			files: map[string]string{
				".ssh/extra.conf":        "Host web\n  User fromextra\n",
				"elsewhere/tilde.conf":   "Host db\n  User fromtilde\n",
				"extra.conf":             "Host web\n  User wrongdir\n",
				".ssh/unused/tilde.conf": "Host db\n  User wrong\n",
			},
			lookups: []lookup{
				{"web", Host{User: "fromextra"}},
				{"db", Host{User: "fromtilde"}},
				{"other", Host{User: "fallback"}},
			},
		},
		{
			name: "Include: several globs, whole-path sorted order, dotfiles and dirs skipped, no match is fine",
			config: `
Include config.d/*.conf nomatch/* missing.conf
`,
			files: map[string]string{
				".ssh/config.d/20-b.conf":        "Host web\n  User second\n  Port 2020\n",
				".ssh/config.d/10-a.conf":        "Host web\n  User first\n",
				".ssh/config.d/.10-hidden.conf":  "Host web\n  User hidden\n  IdentityFile ~/.ssh/hidden\n",
				".ssh/config.d/dir.conf/":        "",
				".ssh/config.d/notmatched.other": "Host web\n  IdentityFile ~/.ssh/other\n",
			},
			lookups: []lookup{
				{"web", Host{User: "first", Port: 2020}},
			},
		},
		{
			name: "Include inside a Host block is conditional on it, and the block resumes after it",
			config: `
Host web
  Include web.conf
  Port 2222
Host *
  User fallback
`,
			files: map[string]string{
				// Lines before a Host line inherit the including block;
				// a Host line here narrows it further rather than
				// escaping it.
				".ssh/web.conf": "User webinc\nHost db\n  IdentityFile ~/.ssh/db\n  Port 1\n",
			},
			lookups: []lookup{
				{"web", Host{User: "webinc", Port: 2222}},
				{"db", Host{User: "fallback"}},
			},
		},
		{
			name: "top-level lines after a top-level Include apply to every alias",
			config: `
Include conf.d/*
User everyone
Host other
  Port 3
`,
			files: map[string]string{
				".ssh/conf.d/a": "Host special\n  Port 2\n",
			},
			lookups: []lookup{
				{"special", Host{User: "everyone", Port: 2}},
				{"other", Host{User: "everyone", Port: 3}},
				{"x", Host{User: "everyone"}},
			},
		},
		{
			name: "Match in an included file applies there, and the Host block resumes after it",
			config: `
Host web
  Include m.conf
  User afterinclude
`,
			files: map[string]string{
				".ssh/m.conf": "Match all\n  Port 2\nMatch user nobody\n  Port 3\n",
			},
			lookups: []lookup{
				{"web", Host{User: "afterinclude", Port: 2}},
				{"db", Host{}},
			},
		},
	}

	oldLookupHome := lookupHome
	t.Cleanup(func() { lookupHome = oldLookupHome })
	lookupHome = func(name string) (string, error) {
		if name == "alice" {
			return "/home/alice", nil
		}
		return "", errors.New("unknown user")
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			home := fakeHome
			if tt.files != nil {
				home = t.TempDir()
				writeFiles(t, home, tt.files)
			}
			c := parseText(t, tt.config, home)
			for _, l := range tt.lookups {
				got := lookup1(t, c, l.alias)
				want := l.want
				// Paths under a temporary home: compare relative.
				for i, w := range want.Warnings {
					if strings.HasPrefix(w, "m.conf:") {
						want.Warnings[i] = filepath.Join(home, ".ssh", w)
					}
				}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("Lookup(%q)\n got %+v\nwant %+v", l.alias, got, want)
				}
			}
		})
	}
}

// TestLookupErrors: what makes ssh refuse to connect makes Lookup fail.
func TestLookupErrors(t *testing.T) {
	tests := []struct {
		name, config, want string
	}{
		{"unknown token in HostName", "HostName %x.example.com\n", `HostName "%x.example.com": token %x is not supported`},
		{"unknown token in a path", "IdentityFile ~/.ssh/%Z\n", `IdentityFile "~/.ssh/%Z": token %Z is not supported`},
		{"unset variable", "UserKnownHostsFile ${SSHCONFIG_TEST_UNSET}/kh\n", `environment variable ${SSHCONFIG_TEST_UNSET} is not set`},
		{"unknown user", "IdentityFile ~nosuchuser/id\n", `no such user "nosuchuser"`},
		{"exec killed by a signal", "Match exec \"kill -9 $$\"\n  User x\n", `cfg:1: Match exec "kill -9 $$": command exited abnormally`},
		{"unknown token in exec", "Match exec \"test %Z\"\n", `cfg:1: Match exec "test %Z": token %Z is not supported`},
	}
	oldLookupHome := lookupHome
	t.Cleanup(func() { lookupHome = oldLookupHome })
	lookupHome = func(string) (string, error) { return "", errors.New("unknown user") }
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := parseText(t, tt.config, fakeHome)
			_, err := c.Lookup("web", Preset{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Lookup error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

// TestMatchExec: the command runs with sh -c once per pass in which the
// line is reached with everything before it true, and not otherwise.
func TestMatchExec(t *testing.T) {
	log := filepath.Join(t.TempDir(), "log")
	t.Setenv("SHELL", "/bin/sh")
	config := "Match host web exec \"echo %n >> " + log + "\"\n  User ran\n" +
		"Match host other exec \"echo never >> " + log + "\"\n" +
		"Match final\n"
	c := parseText(t, config, fakeHome)
	h, err := c.Lookup("web", Preset{})
	if err != nil || h.User != "ran" {
		t.Fatalf("Lookup = %+v, %v; want User ran", h, err)
	}
	data, _ := os.ReadFile(log)
	if string(data) != "web\nweb\n" { // first pass, then the final pass
		t.Errorf("commands run: %q, want two runs for web", data)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, config, want string
	}{
		{"port zero", "Host web\n  Port 0\n", `cfg:2: bad Port "0"`},
		{"port too big", "Port 65536\n", `cfg:1: bad Port "65536"`},
		{"port not a number", "\n\nPort ssh-ish\n", `cfg:3: bad Port "ssh-ish"`},
		{"port in a block that never applies", "Host nothing\n  Port -1\n", `cfg:2: bad Port "-1"`},
		{"port extra args", "Port 22 23\n", "cfg:1: Port: extra arguments at end of line"},
		{"port missing", "Port\n", "cfg:1: Port: missing argument"},
		{"port = only", "Host x\nPort=\n", "cfg:2: Port: missing argument"},
		{"port only a comment", "Port # none\n", "cfg:1: Port: missing argument"},
		{"unterminated quote", "User \"bob\n", "cfg:1: invalid quotes"},
		{"empty quoted user", "User \"\"\n", "cfg:1: User: missing argument"},
		{"strict on", "StrictHostKeyChecking on\n", `cfg:1: StrictHostKeyChecking: unsupported value "on"`},
		{"identitiesonly", "IdentitiesOnly maybe\n", `cfg:1: IdentitiesOnly: unsupported value "maybe"`},
		{"connecttimeout unit", "ConnectTimeout 10x\n", `cfg:1: ConnectTimeout: invalid time value "10x"`},
		{"connecttimeout negative", "ConnectTimeout -5\n", `cfg:1: ConnectTimeout: invalid time value "-5"`},
		{"connecttimeout overflow", "ConnectTimeout 99999999999\n", `cfg:1: ConnectTimeout: invalid time value`},
		{"known hosts none not alone", "UserKnownHostsFile none /x\n", `cfg:1: UserKnownHostsFile: "none" must appear alone`},
		{"proxyjump empty hop", "ProxyJump a,,b\n", `cfg:1: invalid ProxyJump "a,,b"`},
		{"proxyjump only comment", "ProxyJump #x\n", "cfg:1: ProxyJump: missing argument"},
		{"host empty pattern", "Host web \"\"\n", "cfg:1: Host: empty pattern"},
		{"include missing arg", "Include\n", "cfg:1: Include: missing argument"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(strings.NewReader(tt.config), "cfg", fakeHome)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Parse error = %v, want it to contain %q", err, tt.want)
			}
			var pe *ParseError
			if !errors.As(err, &pe) || pe.File != "cfg" {
				t.Errorf("error %v is not a *ParseError for cfg", err)
			}
		})
	}
}

func TestIncludeErrors(t *testing.T) {
	t.Run("recursion", func(t *testing.T) {
		home := t.TempDir()
		writeFiles(t, home, map[string]string{
			".ssh/loop.conf": "Host *\n  Include loop.conf\n",
		})
		_, err := Parse(strings.NewReader("Include loop.conf\n"), "cfg", home)
		loop := filepath.Join(home, ".ssh", "loop.conf")
		var pe *ParseError
		if !errors.As(err, &pe) || pe.File != loop || pe.Line != 2 ||
			!strings.Contains(pe.Msg, "nested more than 16 deep") {
			t.Fatalf("err = %v, want %s:2: ... nested more than 16 deep", err, loop)
		}
	})
	t.Run("16 levels are allowed", func(t *testing.T) {
		home := t.TempDir()
		files := map[string]string{}
		for i := 1; i < 16; i++ {
			files[".ssh/"+string(rune('a'+i))] = "Include " + string(rune('a'+i+1)) + "\n"
		}
		files[".ssh/"+string(rune('a'+16))] = "User deep\n"
		writeFiles(t, home, files)
		c, err := Parse(strings.NewReader("Include b\n"), "cfg", home)
		if err != nil {
			t.Fatal(err)
		}
		if got := lookup1(t, c, "x").User; got != "deep" {
			t.Errorf("User = %q, want deep", got)
		}
	})
	t.Run("error in included file names that file", func(t *testing.T) {
		home := t.TempDir()
		writeFiles(t, home, map[string]string{".ssh/bad.conf": "\nHost x\n  Port 0\n"})
		_, err := Parse(strings.NewReader("Host nothing\n  Include bad.conf\n"), "cfg", home)
		want := filepath.Join(home, ".ssh", "bad.conf") + `:3: bad Port "0"`
		if err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Fatalf("err = %v, want prefix %q", err, want)
		}
	})
	t.Run("group-writable included file", func(t *testing.T) {
		if runtime.GOOS == "windows" {
			t.Skip("no Unix permissions")
		}
		home := t.TempDir()
		writeFiles(t, home, map[string]string{".ssh/open.conf": "User x\n"})
		if err := os.Chmod(filepath.Join(home, ".ssh", "open.conf"), 0o664); err != nil {
			t.Fatal(err)
		}
		_, err := Parse(strings.NewReader("\nInclude open.conf\n"), "cfg", home)
		if err == nil || !strings.HasPrefix(err.Error(), "cfg:2: Include ") ||
			!strings.Contains(err.Error(), "bad owner or permissions") {
			t.Fatalf("err = %v, want cfg:2: Include ...: bad owner or permissions", err)
		}
	})
}

func TestLoad(t *testing.T) {
	t.Run("missing file is an empty config", func(t *testing.T) {
		home := t.TempDir()
		c, err := Load(filepath.Join(home, ".ssh", "config"), home)
		if err != nil || c == nil {
			t.Fatalf("Load = %v, %v; want empty config, nil", c, err)
		}
		if got := lookup1(t, c, "web"); !reflect.DeepEqual(got, Host{}) {
			t.Errorf("Lookup = %+v, want zero Host", got)
		}
	})
	t.Run("reads the file and its includes", func(t *testing.T) {
		home := t.TempDir()
		writeFiles(t, home, map[string]string{
			".ssh/config": "Include inc\nHost web\n  User bob\n",
			".ssh/inc":    "Host web\n  Port 2222\n",
		})
		path := filepath.Join(home, ".ssh", "config")
		c, err := Load(path, home)
		if err != nil {
			t.Fatal(err)
		}
		if got := lookup1(t, c, "web"); got.User != "bob" || got.Port != 2222 {
			t.Errorf("Lookup = %+v, want User bob, Port 2222", got)
		}
	})
	t.Run("errors name the file", func(t *testing.T) {
		home := t.TempDir()
		writeFiles(t, home, map[string]string{".ssh/config": "Host web\n  Port 99999\n"})
		path := filepath.Join(home, ".ssh", "config")
		_, err := Load(path, home)
		if err == nil || !strings.HasPrefix(err.Error(), path+":2: bad Port") {
			t.Fatalf("err = %v, want %s:2: bad Port...", err, path)
		}
	})
	t.Run("world-writable config refused", func(t *testing.T) {
		if runtime.GOOS == "windows" {
			t.Skip("no Unix permissions")
		}
		home := t.TempDir()
		writeFiles(t, home, map[string]string{".ssh/config": "User x\n"})
		path := filepath.Join(home, ".ssh", "config")
		if err := os.Chmod(path, 0o666); err != nil {
			t.Fatal(err)
		}
		if _, err := Load(path, home); err == nil || !strings.Contains(err.Error(), "bad owner or permissions") {
			t.Fatalf("err = %v, want bad owner or permissions", err)
		}
	})
}

func TestNilConfig(t *testing.T) {
	var c *Config
	if got := lookup1(t, c, "web"); !reflect.DeepEqual(got, Host{}) {
		t.Errorf("Lookup on nil = %+v", got)
	}
}

func TestMatchPattern(t *testing.T) {
	tests := []struct {
		s, p string
		want bool
	}{
		{"", "", true},
		{"", "*", true},
		{"a", "", false},
		{"abc", "abc", true},
		{"abc", "ABC", false},
		{"abc", "a?c", true},
		{"ac", "a?c", false},
		{"abc", "*c", true},
		{"abc", "a*", true},
		{"abc", "*b*", true},
		{"abcbd", "a*b?", true},
		{"abcbde", "a*b?", false},
		{"aaa", "a*a*a", true},
		{"aa", "a*a*a", false},
		{"x.example.com", "*.example.com", true},
		{"example.com", "*.example.com", false},
		{"a.b.c", "*.*", true},
		{"abc", "**?**", true},
	}
	for _, tt := range tests {
		if got := matchPattern(tt.s, tt.p); got != tt.want {
			t.Errorf("matchPattern(%q, %q) = %v, want %v", tt.s, tt.p, got, tt.want)
		}
	}
}

func TestSplitArgs(t *testing.T) {
	tests := []struct {
		in   string
		want []string
		ok   bool
	}{
		{"a b\tc", []string{"a", "b", "c"}, true},
		{`"a b" c`, []string{"a b", "c"}, true},
		{`'a "b"' c`, []string{`a "b"`, "c"}, true},
		{`a\ b`, []string{"a b"}, true},
		{`"a\"b"`, []string{`a"b`}, true},
		{`a\nb`, []string{`a\nb`}, true},
		{`a # c`, []string{"a"}, true},
		{`a#b`, []string{"a#b"}, true},
		{`"#a"`, []string{"#a"}, true},
		{`""`, []string{""}, true},
		{`"a`, nil, false},
		{`# all comment`, nil, true},
	}
	for _, tt := range tests {
		got, ok := splitArgs(tt.in)
		if ok != tt.ok || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("splitArgs(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestParseSeconds(t *testing.T) {
	tests := []struct {
		in   string
		want int
		ok   bool
	}{
		{"0", 0, true},
		{"90", 90, true},
		{"30s", 30, true},
		{"1m30s", 90, true},
		{"1H", 3600, true},
		{"1w1d", 8 * 86400, true},
		{"", 0, false},
		{"m", 0, false},
		{"1x", 0, false},
		{"1.5", 0, false},
		{"2147483648", 0, false},
	}
	for _, tt := range tests {
		got, err := parseSeconds(tt.in)
		if (err == nil) != tt.ok || (tt.ok && got != tt.want) {
			t.Errorf("parseSeconds(%q) = %d, %v; want %d, ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func lookup1(t *testing.T, c *Config, alias string) Host {
	t.Helper()
	h, err := c.Lookup(alias, Preset{})
	if err != nil {
		t.Fatalf("Lookup(%q): %v", alias, err)
	}
	h.rawIdentityFiles, h.connectTimeoutSet = nil, false
	return h
}

// Canonicalisation: the first CanonicalDomains suffix that resolves names
// the host, and the final pass matches Host lines against that name; with
// a ProxyJump, "yes" leaves the name alone ("always" would not).
func TestCanonicalize(t *testing.T) {
	old := resolveName
	t.Cleanup(func() { resolveName = old })
	var asked []string
	resolveName = func(name string) bool {
		asked = append(asked, name)
		return name == "web.b.example."
	}
	config := `
CanonicalizeHostname yes
CanonicalDomains a.example b.example
Host web.b.example
  User canonical
Host viajump
  ProxyJump bastion
`
	c := parseText(t, config, fakeHome)
	if h := lookup1(t, c, "web"); h.HostName != "web.b.example" || h.User != "canonical" {
		t.Errorf("web: %+v", h)
	}
	if want := []string{"web.a.example.", "web.b.example."}; !reflect.DeepEqual(asked, want) {
		t.Errorf("names resolved: %q, want %q", asked, want)
	}
	asked = nil
	if h := lookup1(t, c, "viajump"); h.HostName != "" || len(asked) != 0 {
		t.Errorf("behind a jump: %+v, resolved %q", h, asked)
	}
	c = parseText(t, "CanonicalizeHostname yes\nCanonicalDomains a.example\nCanonicalizeFallbackLocal no\n", fakeHome)
	if _, err := c.Lookup("nowhere", Preset{}); err == nil || !strings.Contains(err.Error(), "could not resolve") {
		t.Errorf("fallback no: %v", err)
	}
}

// Without --ssh-config, as ssh without -F: the user's file first, then the
// system-wide one fills what it left unset; a system file may not Include
// with ~.
func TestLoadDefault(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"user":         "Host web\n  User fromuser\n",
		"system":       "Include " + filepath.Join(dir, "sys.d") + "/*.conf\nHost *\n  User fromsystem\n",
		"sys.d/a.conf": "Host web\n  Port 2200\n",
		"badsystem":    "Include ~/x.conf\n",
	})
	c, err := loadDefault(filepath.Join(dir, "user"), filepath.Join(dir, "system"))
	if err != nil {
		t.Fatal(err)
	}
	if h := lookup1(t, c, "web"); h.User != "fromuser" || h.Port != 2200 {
		t.Errorf("web: %+v, want User fromuser Port 2200", h)
	}
	if h := lookup1(t, c, "db"); h.User != "fromsystem" {
		t.Errorf("db: %+v, want User fromsystem", h)
	}
	if c, err := loadDefault(filepath.Join(dir, "missing"), filepath.Join(dir, "missing2")); err != nil || lookup1(t, c, "web").User != "" {
		t.Errorf("no files: %v", err)
	}
	if _, err := loadDefault(filepath.Join(dir, "user"), filepath.Join(dir, "badsystem")); err == nil || !strings.Contains(err.Error(), "bad include path") {
		t.Errorf("~ in a system Include: %v", err)
	}
}
