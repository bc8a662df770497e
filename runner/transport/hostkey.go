package transport

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/mvorch/mvorch/runner/sh"
)

// knownHostsMu serialises appends to known_hosts files. It is package state
// because the file it guards is process state too: the Dials of one command
// run in parallel, each with its own Config, and may accept new hosts at once.
var knownHostsMu sync.Mutex

// hostKeyChecker verifies the host key of one Dial against known_hosts.
type hostKeyChecker struct {
	file   string // known_hosts path
	name   string // inventory host name, for messages
	accept bool   // append unknown keys (StrictHostKeyChecking=accept-new)
	db     ssh.HostKeyCallback
	known  []knownhosts.KnownKey // what the file holds for this host

	// Set by check during the handshake, read by Dial after it.
	verified bool
	added    string // fingerprint of a key check appended to the file
	err      error  // check's typed error, kept whole for Dial to return
}

func newHostKeyChecker(cfg Config, addr string) (*hostKeyChecker, error) {
	db, err := loadKnownHosts(cfg.KnownHostsFile)
	if err != nil {
		return nil, err
	}
	return &hostKeyChecker{
		file:   cfg.KnownHostsFile,
		name:   cfg.Name,
		accept: cfg.AcceptNewHostKeys,
		db:     db,
		known:  knownKeys(db, addr),
	}, nil
}

// loadKnownHosts reads the file; a missing file is an empty one, so that the
// first host of a fresh laptop is "unknown", not an error about a path.
func loadKnownHosts(file string) (ssh.HostKeyCallback, error) {
	db, err := knownhosts.New(file)
	if errors.Is(err, fs.ErrNotExist) {
		return knownhosts.New()
	}
	if err != nil {
		return nil, fmt.Errorf("loading known hosts: %w", err)
	}
	return db, nil
}

// probeKey is a key no host has. Checking it makes knownhosts list every key
// it holds for an address in KeyError.Want; it has no lookup of its own.
var probeKey, _ = ssh.NewPublicKey(ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize)).Public())

// probeRemote is never consulted (the address passed with it is preferred),
// but knownhosts parses it.
var probeRemote = &net.TCPAddr{IP: net.IPv4zero, Port: 22}

func knownKeys(db ssh.HostKeyCallback, addr string) []knownhosts.KnownKey {
	var ke *knownhosts.KeyError
	if errors.As(db(addr, probeRemote, probeKey), &ke) {
		return ke.Want
	}
	return nil
}

// hostKeyPreference orders the algorithms a known key type allows: modern
// and small first. ssh-rsa (SHA-1 signatures) is left out on purpose.
var hostKeyPreference = []string{
	ssh.KeyAlgoED25519,
	ssh.KeyAlgoECDSA256, ssh.KeyAlgoECDSA384, ssh.KeyAlgoECDSA521,
	ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256,
}

// algorithms limits the host key algorithms offered to the types the file
// already holds for this host. Otherwise a host with an ed25519 and an ecdsa
// key, known by only one, may present the other, which looks exactly like a
// changed key (golang/go#29286); OpenSSH orders its offer the same way.
// Nil, the library default, for hosts the file does not know.
func (h *hostKeyChecker) algorithms() []string {
	types := map[string]bool{}
	for _, k := range h.known {
		types[k.Key.Type()] = true
	}
	var algos []string
	for _, a := range hostKeyPreference {
		if types[keyTypeOfAlgorithm(a)] {
			algos = append(algos, a)
		}
	}
	return algos
}

func keyTypeOfAlgorithm(algo string) string {
	if algo == ssh.KeyAlgoRSASHA256 || algo == ssh.KeyAlgoRSASHA512 {
		return ssh.KeyAlgoRSA
	}
	return algo
}

// check is the ssh.HostKeyCallback.
func (h *hostKeyChecker) check(hostname string, remote net.Addr, key ssh.PublicKey) error {
	err := h.classify(h.db(hostname, remote, key), hostname, key)
	var unknown *UnknownHostError
	if errors.As(err, &unknown) && h.accept {
		err = h.acceptKey(hostname, remote, key)
	}
	h.verified, h.err = err == nil, err
	return err
}

// classify turns knownhosts' errors into ours, which say what to do.
func (h *hostKeyChecker) classify(err error, hostname string, key ssh.PublicKey) error {
	var ke *knownhosts.KeyError
	var re *knownhosts.RevokedError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &re):
		return fmt.Errorf("host key %s %s is marked @revoked at %s:%d, refusing to connect",
			key.Type(), ssh.FingerprintSHA256(key), re.Revoked.Filename, re.Revoked.Line)
	case errors.As(err, &ke) && len(ke.Want) == 0:
		return &UnknownHostError{Host: h.name, Address: hostname, KeyType: key.Type(),
			Fingerprint: ssh.FingerprintSHA256(key), KnownHostsFile: h.file}
	case errors.As(err, &ke):
		return &ChangedHostKeyError{Host: h.name, Address: hostname, KeyType: key.Type(),
			Fingerprint: ssh.FingerprintSHA256(key), KnownHostsFile: h.file, Known: ke.Want}
	}
	return err
}

// acceptKey appends the key of an unknown host. The file is read again under
// the lock: a parallel Dial to the same address may have written it since.
func (h *hostKeyChecker) acceptKey(hostname string, remote net.Addr, key ssh.PublicKey) error {
	knownHostsMu.Lock()
	defer knownHostsMu.Unlock()
	db, err := loadKnownHosts(h.file)
	if err != nil {
		return err
	}
	err = h.classify(db(hostname, remote, key), hostname, key)
	var unknown *UnknownHostError
	if !errors.As(err, &unknown) {
		return err
	}
	if err := appendKnownHost(h.file, hostname, key); err != nil {
		return fmt.Errorf("adding host key to %s: %w", h.file, err)
	}
	h.added = ssh.FingerprintSHA256(key)
	return nil
}

func appendKnownHost(file, hostname string, key ssh.PublicKey) error {
	if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(file, os.O_RDWR|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	line := knownhosts.Line([]string{knownhosts.Normalize(hostname)}, key) + "\n"
	if !endsWithNewline(f) {
		// Never glue our entry onto a last line someone left unterminated.
		line = "\n" + line
	}
	_, err = f.WriteString(line)
	return errors.Join(err, f.Close())
}

// endsWithNewline reports whether f is empty or ends with '\n'.
func endsWithNewline(f *os.File) bool {
	st, err := f.Stat()
	if err != nil || st.Size() == 0 {
		return true
	}
	last := make([]byte, 1)
	_, err = f.ReadAt(last, st.Size()-1)
	return err != nil || last[0] == '\n'
}

// noCommonAlgorithm reports a handshake that failed because the host offers
// none of the key types the file holds for it.
func (h *hostKeyChecker) noCommonAlgorithm(err error) bool {
	return len(h.algorithms()) > 0 && strings.Contains(err.Error(), "no common algorithm for host key")
}

func (h *hostKeyChecker) noCommonAlgorithmError(err error) error {
	var at []string
	for _, k := range h.known {
		at = append(at, fmt.Sprintf("%s at line %d", k.Key.Type(), k.Line))
	}
	return fmt.Errorf("host offers none of the key types %s holds for it (%s): its keys may have been replaced, "+
		"or someone may be impersonating it; refusing to connect: %w", h.file, strings.Join(at, ", "), err)
}

// UnknownHostError: known_hosts holds no key for the host, and new keys are
// not being accepted.
type UnknownHostError struct {
	Host           string // inventory name
	Address        string // host:port as dialled
	KeyType        string // e.g. "ssh-ed25519"
	Fingerprint    string // "SHA256:..."
	KnownHostsFile string
}

func (e *UnknownHostError) Error() string {
	host, port, _ := net.SplitHostPort(e.Address)
	short := shortKeyType(e.KeyType)
	keyscan := fmt.Sprintf("ssh-keyscan -p %s -t %s %s >> %s", port, short, sh.Quote(host), sh.Quote(e.KnownHostsFile))
	return fmt.Sprintf("unknown host key %s %s (not in %s): check this fingerprint on the host itself "+
		"(ssh-keygen -lf /etc/ssh/ssh_host_%s_key.pub), then rerun with --accept-new-host-keys, "+
		"or add the key yourself with %q and check the fingerprint of what it wrote",
		e.KeyType, e.Fingerprint, e.KnownHostsFile, short, keyscan)
}

// ChangedHostKeyError: the host presented a key other than the one
// known_hosts holds for it. Always refused, whatever the flags.
type ChangedHostKeyError struct {
	Host           string // inventory name
	Address        string // host:port as dialled
	KeyType        string // of the presented key
	Fingerprint    string // of the presented key
	KnownHostsFile string
	Known          []knownhosts.KnownKey // the entries that hold other keys, with their line numbers
}

func (e *ChangedHostKeyError) Error() string {
	var known []string
	for _, k := range e.Known {
		known = append(known, fmt.Sprintf("%s %s at %s:%d", k.Key.Type(), ssh.FingerprintSHA256(k.Key), k.Filename, k.Line))
	}
	remove := fmt.Sprintf("ssh-keygen -f %s -R %s", sh.Quote(e.KnownHostsFile), sh.Quote(knownhosts.Normalize(e.Address)))
	return fmt.Sprintf("HOST KEY CHANGED, refusing to connect: the host presents %s %s, but known hosts hold %s. "+
		"Someone could be intercepting the connection (a man-in-the-middle attack), or the host was reinstalled; "+
		"only if you know it was, remove the old entry with %q and connect again",
		e.KeyType, e.Fingerprint, strings.Join(known, "; "), remove)
}

// shortKeyType is the name ssh-keyscan -t and host key file names use.
func shortKeyType(t string) string {
	switch {
	case t == ssh.KeyAlgoRSA:
		return "rsa"
	case strings.HasPrefix(t, "ecdsa-"):
		return "ecdsa"
	}
	return strings.TrimPrefix(t, "ssh-")
}
