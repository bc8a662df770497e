package transport

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

func TestUnknownHostRefusedThenAccepted(t *testing.T) {
	f := newFixture(t, serverOptions{})
	f.knownHosts = filepath.Join(f.dir, "fresh", "known_hosts") // neither file nor directory exists
	f.cfg.KnownHostsFile = f.knownHosts
	fp := ssh.FingerprintSHA256(f.srv.hostKeys[0].PublicKey())

	_, err := Dial(t.Context(), f.cfg)
	var unknown *UnknownHostError
	if !errors.As(err, &unknown) {
		t.Fatalf("Dial without known key: got %v, want *UnknownHostError", err)
	}
	for _, want := range []string{fp, "--accept-new-host-keys", "ssh-keyscan -p " + strconv.Itoa(f.srv.port), "dialing h1 (127.0.0.1:"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
	if unknown.Fingerprint != fp || unknown.KeyType != ssh.KeyAlgoED25519 || unknown.Host != "h1" {
		t.Errorf("UnknownHostError fields = %+v", unknown)
	}
	if _, err := os.Stat(f.knownHosts); !os.IsNotExist(err) {
		t.Fatalf("refused key was written: stat = %v", err)
	}

	f.cfg.AcceptNewHostKeys = true
	c := f.dial(t)
	if c.AddedHostKey() != fp {
		t.Errorf("AddedHostKey() = %q, want %q", c.AddedHostKey(), fp)
	}
	want := knownhosts.Line([]string{fmt.Sprintf("[127.0.0.1]:%d", f.srv.port)}, f.srv.hostKeys[0].PublicKey()) + "\n"
	if got := readFile(t, f.knownHosts); got != want {
		t.Errorf("known_hosts = %q, want %q", got, want)
	}
	if st, _ := os.Stat(filepath.Dir(f.knownHosts)); st.Mode().Perm() != 0o700 {
		t.Errorf("known_hosts directory mode = %v, want 0700", st.Mode().Perm())
	}

	f.cfg.AcceptNewHostKeys = false
	c2 := f.dial(t)
	if c2.AddedHostKey() != "" {
		t.Errorf("second Dial added a key again")
	}
	if got := readFile(t, f.knownHosts); got != want {
		t.Errorf("known_hosts after second Dial = %q, want %q", got, want)
	}
}

func TestChangedHostKeyRefusedEvenWithAcceptNew(t *testing.T) {
	f := newFixture(t, serverOptions{})
	old := newEd25519Signer(t).PublicKey()
	f.writeKnownHosts(t, knownLine(1, newECDSASigner(t).PublicKey()), knownLine(f.srv.port, old))
	before := readFile(t, f.knownHosts)
	f.cfg.AcceptNewHostKeys = true

	_, err := Dial(t.Context(), f.cfg)
	var changed *ChangedHostKeyError
	if !errors.As(err, &changed) {
		t.Fatalf("got %v, want *ChangedHostKeyError", err)
	}
	if len(changed.Known) != 1 || changed.Known[0].Line != 2 {
		t.Errorf("Known = %+v, want the entry at line 2", changed.Known)
	}
	for _, want := range []string{"man-in-the-middle", f.knownHosts + ":2", ssh.FingerprintSHA256(old),
		ssh.FingerprintSHA256(f.srv.hostKeys[0].PublicKey()), "ssh-keygen"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
	if readFile(t, f.knownHosts) != before {
		t.Errorf("known_hosts was modified")
	}
}

// A host with several key types, known by one, must be checked against that
// one: x/crypto prefers ecdsa over ed25519, so without HostKeyAlgorithms the
// ed25519 rows below would fail as "changed".
func TestHostWithSeveralKeyTypes(t *testing.T) {
	ed, ec := newEd25519Signer(t), newECDSASigner(t)
	tests := []struct {
		name  string
		entry func(port int) string
	}{
		{"ed25519 known", func(p int) string { return knownLine(p, ed.PublicKey()) }},
		{"ecdsa known", func(p int) string { return knownLine(p, ec.PublicKey()) }},
		{"ed25519 known, hashed", func(p int) string {
			return knownhosts.Line([]string{knownhosts.HashHostname(fmt.Sprintf("[127.0.0.1]:%d", p))}, ed.PublicKey())
		}},
		{"ecdsa known, hashed", func(p int) string {
			return knownhosts.Line([]string{knownhosts.HashHostname(fmt.Sprintf("[127.0.0.1]:%d", p))}, ec.PublicKey())
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, serverOptions{hostKeys: []ssh.Signer{ed, ec}})
			f.writeKnownHosts(t, tt.entry(f.srv.port))
			f.dial(t)
		})
	}
}

// A known_hosts entry without a port is for port 22 only, as in OpenSSH.
func TestEntryWithoutPortDoesNotMatchOtherPort(t *testing.T) {
	f := newFixture(t, serverOptions{})
	f.writeKnownHosts(t, "127.0.0.1 "+string(trimNewline(ssh.MarshalAuthorizedKey(f.srv.hostKeys[0].PublicKey()))))
	_, err := Dial(t.Context(), f.cfg)
	var unknown *UnknownHostError
	if !errors.As(err, &unknown) {
		t.Fatalf("got %v, want *UnknownHostError", err)
	}
}

func TestAcceptNewAppendsOnItsOwnLine(t *testing.T) {
	f := newFixture(t, serverOptions{})
	other := knownLine(1, newEd25519Signer(t).PublicKey())
	if err := os.WriteFile(f.knownHosts, []byte(other), 0o600); err != nil { // no final newline
		t.Fatal(err)
	}
	f.cfg.AcceptNewHostKeys = true
	f.dial(t)
	lines := strings.Split(strings.TrimSuffix(readFile(t, f.knownHosts), "\n"), "\n")
	if len(lines) != 2 || lines[0] != other || !strings.HasPrefix(lines[1], fmt.Sprintf("[127.0.0.1]:%d ", f.srv.port)) {
		t.Errorf("known_hosts lines = %q", lines)
	}
}

func TestParallelAcceptNewWritesEveryHost(t *testing.T) {
	f := newFixture(t, serverOptions{})
	f.writeKnownHosts(t)
	f.cfg.AcceptNewHostKeys = true
	const n = 6
	servers := make([]*testServer, n)
	for i := range servers {
		servers[i] = newTestServer(t, serverOptions{})
		for pub := range f.srv.authorized {
			k, _ := ssh.ParsePublicKey([]byte(pub))
			servers[i].authorize(k)
		}
	}
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i, s := range servers {
		wg.Go(func() {
			cfg := f.cfg
			cfg.Port = s.port
			c, err := Dial(t.Context(), cfg)
			if err == nil {
				c.Close()
			}
			errs[i] = err
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	// Every host must now be known, each on a line of its own.
	f.cfg.AcceptNewHostKeys = false
	for _, s := range servers {
		f.cfg.Port = s.port
		f.dial(t)
	}
	if lines := strings.Count(readFile(t, f.knownHosts), "\n"); lines != n {
		t.Errorf("known_hosts has %d lines, want %d", lines, n)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// A host that no longer offers any key type known_hosts holds for it is
// refused, not silently re-learned.
func TestHostOffersNoKnownKeyType(t *testing.T) {
	f := newFixture(t, serverOptions{})
	f.writeKnownHosts(t, knownLine(f.srv.port, newECDSASigner(t).PublicKey()))
	f.cfg.AcceptNewHostKeys = true
	_, err := Dial(t.Context(), f.cfg)
	if err == nil || !strings.Contains(err.Error(), "refusing to connect") || !strings.Contains(err.Error(), "ecdsa-sha2-nistp256 at line 1") {
		t.Errorf("got %v, want a refusal naming the known key", err)
	}
}
