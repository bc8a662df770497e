package transport

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
)

func TestAuthErrorListsWhatWasOffered(t *testing.T) {
	f := newFixture(t, serverOptions{})
	stranger, _ := writeIdentity(t, f.dir, "id_stranger", "")
	f.cfg.IdentityFiles = []string{stranger}

	_, err := Dial(t.Context(), f.cfg)
	var ae *AuthError
	if !errors.As(err, &ae) {
		t.Fatalf("got %v, want *AuthError", err)
	}
	if len(ae.Identities) != 1 || !strings.HasPrefix(ae.Identities[0], stranger+" (ssh-ed25519 SHA256:") {
		t.Errorf("Identities = %q", ae.Identities)
	}
	if ae.User != "root" || ae.Host != "h1" {
		t.Errorf("User, Host = %q, %q", ae.User, ae.Host)
	}
	if !strings.Contains(err.Error(), "SSH_AUTH_SOCK is not set") {
		t.Errorf("error %q does not say the agent was not used", err)
	}
}

func TestMissingIdentityFile(t *testing.T) {
	f := newFixture(t, serverOptions{})

	f.cfg.IdentityFiles = []string{filepath.Join(f.dir, "nope")}
	_, err := Dial(t.Context(), f.cfg)
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "nope") {
		t.Errorf("named missing identity: got %v, want a not-exist error naming it", err)
	}

	// Defaults that are missing are skipped: this HOME has only id_ecdsa
	// missing, and its id_ed25519 is authorized.
	_, pub := writeIdentity(t, filepath.Join(os.Getenv("HOME"), ".ssh"), "id_ed25519", "")
	f.srv.authorize(pub)
	f.cfg.IdentityFiles = nil
	f.dial(t)
}

// serveAgent runs an ssh-agent holding keys (ed25519 private keys) for the
// test, at SSH_AUTH_SOCK.
func serveAgent(t *testing.T, keys ...ed25519.PrivateKey) {
	t.Helper()
	keyring := agent.NewKeyring()
	for _, k := range keys {
		if err := keyring.Add(agent.AddedKey{PrivateKey: k}); err != nil {
			t.Fatal(err)
		}
	}
	sock := filepath.Join(t.TempDir(), "agent.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go agent.ServeAgent(keyring, c)
		}
	}()
	t.Setenv("SSH_AUTH_SOCK", sock)
}

func TestAgentKeysAreOffered(t *testing.T) {
	f := newFixture(t, serverOptions{})
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	signer, _ := ssh.NewSignerFromKey(priv)
	f.srv.authorize(signer.PublicKey())
	serveAgent(t, priv)
	f.cfg.IdentityFiles = []string{filepath.Join(f.dir, "id_stranger")}
	writeIdentity(t, f.dir, "id_stranger", "") // not authorized: only the agent's key works
	f.dial(t)
}

// IdentitiesOnly (ssh_config): the agent's keys are not offered, but one that
// is an identity file's key signs for that file, so its passphrase is not
// needed (ssh does the same).
func TestIdentitiesOnlyHoldsBackAgentKeys(t *testing.T) {
	f := newFixture(t, serverOptions{})
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	signer, _ := ssh.NewSignerFromKey(priv)
	f.srv.authorize(signer.PublicKey())
	serveAgent(t, priv)
	stranger, _ := writeIdentity(t, f.dir, "id_stranger", "")
	f.cfg.IdentityFiles = []string{stranger}
	f.cfg.IdentitiesOnly = true
	_, err := Dial(t.Context(), f.cfg)
	var ae *AuthError
	if !errors.As(err, &ae) {
		t.Fatalf("IdentitiesOnly with only the agent's key authorized: got %v, want *AuthError", err)
	}
	if len(ae.Identities) != 1 || !strings.HasPrefix(ae.Identities[0], stranger+" ") {
		t.Errorf("offered %q; want the identity file only", ae.Identities)
	}
	if !strings.Contains(err.Error(), "IdentitiesOnly") {
		t.Errorf("error %q does not say why the agent's key was not offered", err)
	}

	// The agent holds the key of an encrypted identity file: that file works
	// through the agent, with no terminal to ask its passphrase on.
	locked, pub := writeIdentity(t, f.dir, "id_locked", "secret")
	_, lockedPriv := readTestKey(t, locked, "secret")
	f.srv.authorize(pub)
	serveAgent(t, lockedPriv)
	f.cfg.IdentityFiles = []string{locked}
	f.cfg.Passphrases = nil // no terminal here: only the agent can sign
	f.dial(t)
}

func TestEncryptedIdentityWithoutTerminal(t *testing.T) {
	f := newFixture(t, serverOptions{})
	id, pub := writeIdentity(t, f.dir, "id_locked", "secret")
	f.srv.authorize(pub)
	f.cfg.IdentityFiles = []string{id}

	_, err := Dial(t.Context(), f.cfg)
	var ae *AuthError
	if !errors.As(err, &ae) {
		t.Fatalf("got %v, want *AuthError", err)
	}
	want := "identity " + id + " is encrypted: load it into ssh-agent"
	if !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not contain %q", err, want)
	}
}

func TestEncryptedIdentityAskedOnceAcrossDials(t *testing.T) {
	f := newFixture(t, serverOptions{})
	id, pub := writeIdentity(t, f.dir, "id_locked", "secret")
	f.srv.authorize(pub)
	var asked atomic.Int32
	f.cfg.IdentityFiles = []string{id}
	f.cfg.Passphrases = NewPassphrases(func(file string) ([]byte, error) {
		asked.Add(1)
		if file != id {
			t.Errorf("asked for %q, want %q", file, id)
		}
		return []byte("secret"), nil
	})
	f.dial(t)
	f.dial(t)
	if n := asked.Load(); n != 1 {
		t.Errorf("asked %d times, want 1", n)
	}
}

// The passphrase is asked only when the host accepts the key: an agent key
// that works must not cost the user a prompt.
func TestEncryptedIdentityNotAskedWhenNotNeeded(t *testing.T) {
	f := newFixture(t, serverOptions{})
	working := f.cfg.IdentityFiles[0]
	locked, _ := writeIdentity(t, f.dir, "id_locked", "secret") // not authorized
	f.cfg.IdentityFiles = []string{locked, working}
	f.cfg.Passphrases = NewPassphrases(func(string) ([]byte, error) {
		t.Error("asked for a passphrase of a key the host does not accept")
		return nil, errors.New("no")
	})
	f.dial(t)
}

func TestWrongPassphrase(t *testing.T) {
	f := newFixture(t, serverOptions{})
	id, pub := writeIdentity(t, f.dir, "id_locked", "secret")
	f.srv.authorize(pub)
	f.cfg.IdentityFiles = []string{id}
	f.cfg.Passphrases = NewPassphrases(func(string) ([]byte, error) { return []byte("wrong"), nil })
	_, err := Dial(t.Context(), f.cfg)
	var ae *AuthError
	if !errors.As(err, &ae) || !strings.Contains(err.Error(), "decrypting identity "+id) {
		t.Errorf("got %v, want an *AuthError about decrypting %s", err, id)
	}
}

// Typing a passphrase is not a slow network: the connect timeout must not
// cut the user off mid-prompt.
func TestPassphrasePromptDoesNotCountAgainstConnectTimeout(t *testing.T) {
	f := newFixture(t, serverOptions{})
	id, pub := writeIdentity(t, f.dir, "id_locked", "secret")
	f.srv.authorize(pub)
	f.cfg.IdentityFiles = []string{id}
	f.cfg.ConnectTimeout = 200 * time.Millisecond
	f.cfg.Passphrases = NewPassphrases(func(string) ([]byte, error) {
		time.Sleep(500 * time.Millisecond)
		return []byte("secret"), nil
	})
	f.dial(t)
}

// readTestKey reads an ed25519 identity file written by writeIdentity.
func readTestKey(t *testing.T, path, passphrase string) (ssh.PublicKey, ed25519.PrivateKey) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := ssh.ParseRawPrivateKeyWithPassphrase(data, []byte(passphrase))
	if err != nil {
		t.Fatal(err)
	}
	priv, ok := raw.(*ed25519.PrivateKey)
	if !ok {
		t.Fatalf("%s holds a %T, want an ed25519 key", path, raw)
	}
	signer, err := ssh.NewSignerFromKey(*priv)
	if err != nil {
		t.Fatal(err)
	}
	return signer.PublicKey(), *priv
}
