package sshconfig

import (
	"bufio"
	"bytes"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// The differential test: every configuration in testdata/ssh-G is resolved
// for its aliases by the local OpenSSH client (`ssh -G`, the reference) and
// by Lookup, and the keywords mvorch uses must agree; where ssh refuses the
// configuration, Lookup (or Parse) must refuse it too.
//
// A corpus file starts with "lookup ALIAS [user=U] [port=P]" lines (user and
// port are ssh's -l and -p, our Preset), then "-- NAME --" sections: "config"
// is the file given to ssh -F, any other name a file under a temporary $HOME
// (Include patterns are read through $HOME, like ssh's glob(3)).

type corpusLookup struct {
	alias, user string
	port        int
}

type corpusCase struct {
	lookups []corpusLookup
	files   map[string]string
}

func readCorpus(t *testing.T, path string) corpusCase {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	cc := corpusCase{files: map[string]string{}}
	section := ""
	for _, ln := range strings.SplitAfter(string(data), "\n") {
		if name, ok := strings.CutPrefix(strings.TrimSpace(ln), "-- "); ok && strings.HasSuffix(name, " --") {
			section = strings.TrimSuffix(name, " --")
			cc.files[section] = ""
			continue
		}
		if section != "" {
			cc.files[section] += ln
			continue
		}
		f := strings.Fields(ln)
		if len(f) < 2 || f[0] != "lookup" {
			continue
		}
		l := corpusLookup{alias: f[1]}
		for _, kv := range f[2:] {
			k, v, _ := strings.Cut(kv, "=")
			switch k {
			case "user":
				l.user = v
			case "port":
				l.port, _ = strconv.Atoi(v)
			default:
				t.Fatalf("%s: bad lookup option %q", path, kv)
			}
		}
		cc.lookups = append(cc.lookups, l)
	}
	if _, ok := cc.files["config"]; !ok || len(cc.lookups) == 0 {
		t.Fatalf("%s: needs lookup lines and a config section", path)
	}
	return cc
}

// sshG runs ssh -G and returns its settings (keyword -> values, in order),
// or ok false when ssh refuses the configuration.
func sshG(t *testing.T, ssh, config string, l corpusLookup) (map[string][]string, bool, string) {
	t.Helper()
	args := []string{"-G", "-F", config}
	if l.user != "" {
		args = append(args, "-l", l.user)
	}
	if l.port != 0 {
		args = append(args, "-p", strconv.Itoa(l.port))
	}
	cmd := exec.Command(ssh, append(args, l.alias)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, false, stderr.String()
	}
	got := map[string][]string{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), " ")
		got[k] = append(got[k], v)
	}
	return got, true, ""
}

// defaultIdentityFiles is what ssh -G lists when no IdentityFile applies.
var defaultIdentityFiles = []string{"~/.ssh/id_rsa", "~/.ssh/id_ecdsa", "~/.ssh/id_ecdsa_sk", "~/.ssh/id_ed25519", "~/.ssh/id_ed25519_sk", "~/.ssh/id_xmss", "~/.ssh/id_dsa"}

// asSSHG renders h the way ssh -G prints the keywords mvorch uses.
func asSSHG(c *Config, alias string, h Host) map[string]string {
	m := map[string]string{}
	m["user"] = h.User
	if m["user"] == "" {
		m["user"] = c.localUser
	}
	m["hostname"] = h.HostName
	if m["hostname"] == "" {
		m["hostname"] = lowerUnlessAddr(alias)
	}
	m["port"] = "22"
	if h.Port != 0 {
		m["port"] = strconv.Itoa(h.Port)
	}
	ids := h.rawIdentityFiles
	if len(ids) == 0 {
		ids = defaultIdentityFiles
	}
	m["identityfile"] = strings.Join(ids, "\n")
	m["proxyjump"] = h.ProxyJump
	kh := h.UserKnownHostsFiles
	if kh == nil {
		kh = []string{c.home + "/.ssh/known_hosts", c.home + "/.ssh/known_hosts2"}
	}
	m["userknownhostsfile"] = strings.Join(kh, " ")
	m["stricthostkeychecking"] = map[string]string{"": "ask", "yes": "true", "no": "false", "ask": "ask", "accept-new": "accept-new"}[h.StrictHostKeyChecking]
	m["connecttimeout"] = "none"
	if h.connectTimeoutSet {
		m["connecttimeout"] = strconv.Itoa(int(h.ConnectTimeout.Seconds()))
	}
	m["identitiesonly"] = "no"
	if h.IdentitiesOnly {
		m["identitiesonly"] = "yes"
	}
	return m
}

func TestAgainstSSHG(t *testing.T) {
	ssh, err := exec.LookPath("ssh")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI=true but no ssh client: testbed/install-deps installs openssh-client")
		}
		t.Skip("no OpenSSH client (ssh) to compare with")
	}
	corpus, err := filepath.Glob("testdata/ssh-G/*.txt")
	if err != nil || len(corpus) < 40 {
		t.Fatalf("corpus: %d files (%v), want at least 40", len(corpus), err)
	}
	t.Setenv("SSHG_TEST_DIR", "/env/dir")
	t.Setenv("SHELL", "/bin/sh")
	compared := 0
	for _, path := range corpus {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".txt"), func(t *testing.T) {
			cc := readCorpus(t, path)
			home := t.TempDir()
			t.Setenv("HOME", home) // ssh and Lookup both read Includes under $HOME
			files := map[string]string{}
			for name, text := range cc.files {
				if name == "config" {
					name = "cfg/config"
				}
				files[name] = text
			}
			writeFiles(t, home, files)
			config := filepath.Join(home, "cfg", "config")
			c, perr := Load(config, "")
			for _, l := range cc.lookups {
				want, ok, stderr := sshG(t, ssh, config, l)
				var h Host
				lerr := perr
				if lerr == nil {
					h, lerr = c.Lookup(l.alias, Preset{User: l.user, Port: l.port})
				}
				if !ok {
					if lerr == nil {
						t.Errorf("%+v: ssh -G refuses (%s) but Lookup gave %+v", l, strings.TrimSpace(stderr), h)
					} else {
						t.Logf("%+v: both refuse: ssh: %s; Lookup: %v", l, strings.TrimSpace(stderr), lerr)
					}
					continue
				}
				if lerr != nil {
					t.Errorf("%+v: Lookup: %v; ssh -G accepts", l, lerr)
					continue
				}
				got := asSSHG(c, l.alias, h)
				for _, k := range slices.Sorted(maps.Keys(got)) {
					sep := " "
					if k == "identityfile" {
						sep = "\n"
					}
					if w := strings.Join(want[k], sep); got[k] != w {
						t.Errorf("%+v: %s: Lookup %q, ssh -G %q", l, k, got[k], w)
					}
				}
				if testing.Verbose() {
					t.Logf("%+v: user %s host %s port %s ids %q jump %q kh %q", l, got["user"], got["hostname"], got["port"], got["identityfile"], got["proxyjump"], got["userknownhostsfile"])
				}
				compared++
			}
		})
	}
	t.Logf("%d lookups over %d configurations agree with %s -G", compared, len(corpus), ssh)
}
