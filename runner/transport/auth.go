package transport

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
	"golang.org/x/term"
)

// defaultIdentityFiles are tried when Config names none; a missing one is
// skipped silently, as ssh does.
var defaultIdentityFiles = []string{"~/.ssh/id_ed25519", "~/.ssh/id_ecdsa", "~/.ssh/id_rsa"}

// authenticator offers ssh-agent keys, then identity files, by public key.
type authenticator struct {
	agentConn net.Conn // open until the handshake ends: agent keys sign through it
	// heldBack are agent keys not offered (IdentitiesOnly): one is used only
	// in place of an identity file holding the same key, as ssh does.
	heldBack []ssh.Signer
	signers  []ssh.Signer
	offered   []string // descriptions of signers, for AuthError
	skipped   []string // identities that could not be offered, and why

	// pause lifts the handshake deadline while a passphrase is asked for
	// (or another Dial's prompt for the same file is awaited), and returns
	// the function that sets it again: typing is not a slow network.
	pause func() (resume func())
}

func newAuthenticator(cfg Config) (*authenticator, error) {
	a := &authenticator{pause: func() func() { return func() {} }}
	a.addAgent(cfg.IdentitiesOnly)
	files, explicit := cfg.IdentityFiles, true
	if len(files) == 0 {
		files, explicit = defaultIdentityFiles, false
	}
	missing := 0
	for _, f := range files {
		found, err := a.addFile(f, explicit, cfg.Passphrases)
		if err != nil {
			a.close()
			return nil, err
		}
		if !found {
			missing++
		}
	}
	if missing == len(defaultIdentityFiles) && !explicit {
		a.skipped = append(a.skipped, "identity files: none of "+strings.Join(defaultIdentityFiles, ", ")+" exists")
	}
	return a, nil
}

// signersCallback is the ssh.PublicKeysCallback.
func (a *authenticator) signersCallback() ([]ssh.Signer, error) {
	return a.signers, nil
}

func (a *authenticator) close() {
	if a.agentConn != nil {
		a.agentConn.Close()
	}
}

func (a *authenticator) add(s ssh.Signer, desc string) {
	a.signers = append(a.signers, s)
	a.offered = append(a.offered, fmt.Sprintf("%s (%s %s)", desc, s.PublicKey().Type(), ssh.FingerprintSHA256(s.PublicKey())))
}

// has reports whether pub is already offered, typically by the agent: the
// file's copy would be a second try of the same key, and might ask for a
// passphrase the agent already spares the user.
func (a *authenticator) has(pub ssh.PublicKey) bool {
	for _, s := range a.signers {
		if bytes.Equal(s.PublicKey().Marshal(), pub.Marshal()) {
			return true
		}
	}
	return false
}

// addAgent offers the keys of the ssh-agent at SSH_AUTH_SOCK, if any; with
// identitiesOnly (ssh_config's IdentitiesOnly yes) it holds them back, for
// the identity files whose keys they are.
func (a *authenticator) addAgent(identitiesOnly bool) {
	sock := os.Getenv("SSH_AUTH_SOCK")
	if sock == "" {
		a.skipped = append(a.skipped, "ssh-agent: SSH_AUTH_SOCK is not set")
		return
	}
	conn, err := net.Dial("unix", sock)
	if err != nil {
		a.skipped = append(a.skipped, fmt.Sprintf("ssh-agent: %v", err))
		return
	}
	signers, err := agent.NewClient(conn).Signers()
	if err != nil {
		conn.Close()
		a.skipped = append(a.skipped, fmt.Sprintf("ssh-agent: listing keys: %v", err))
		return
	}
	a.agentConn = conn
	if identitiesOnly {
		a.heldBack = signers
		if len(signers) > 0 {
			a.skipped = append(a.skipped, fmt.Sprintf("ssh-agent: %d key(s) not offered (IdentitiesOnly yes), but for identity files holding the same key", len(signers)))
		}
		return
	}
	for _, s := range signers {
		a.add(s, "ssh-agent key")
	}
}

// fromAgent offers the held-back agent key that is pub, for the identity
// file at path, and says whether there was one: the agent signs, and an
// encrypted file's passphrase is not needed.
func (a *authenticator) fromAgent(pub ssh.PublicKey, path string) bool {
	for _, s := range a.heldBack {
		if bytes.Equal(s.PublicKey().Marshal(), pub.Marshal()) {
			if !a.has(pub) {
				a.add(s, "ssh-agent key of "+path)
			}
			return true
		}
	}
	return false
}

// addFile offers one identity file. A file the user named must be usable;
// a default one that is missing is skipped (found is false), and one that
// is unusable is noted and skipped.
func (a *authenticator) addFile(name string, explicit bool, pp *Passphrases) (found bool, err error) {
	err = a.loadFile(name, pp)
	switch {
	case err == nil:
		return true, nil
	case explicit:
		return true, err
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	}
	a.skipped = append(a.skipped, err.Error())
	return true, nil
}

func (a *authenticator) loadFile(name string, pp *Passphrases) error {
	path, err := expandHome(name)
	if err != nil {
		return err
	}
	pem, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("reading identity: %w", err)
	}
	signer, err := ssh.ParsePrivateKey(pem)
	var missing *ssh.PassphraseMissingError
	switch {
	case err == nil:
		if !a.has(signer.PublicKey()) && !a.fromAgent(signer.PublicKey(), path) {
			a.add(signer, path)
		}
		return nil
	case errors.As(err, &missing):
		return a.addEncrypted(path, pem, missing.PublicKey, pp)
	}
	return fmt.Errorf("parsing identity %s: %w", path, err)
}

// addEncrypted offers an encrypted identity. When its public key is known
// (new-format keys carry it in clear; else FILE.pub) the passphrase is asked
// only if the host accepts that key; else it is asked now.
func (a *authenticator) addEncrypted(path string, pem []byte, pub ssh.PublicKey, pp *Passphrases) error {
	if pub == nil {
		pub = readPublicKey(path + ".pub")
	}
	switch {
	case pub != nil && (a.has(pub) || a.fromAgent(pub, path)):
		return nil
	case !pp.canAsk():
		a.skipped = append(a.skipped, fmt.Sprintf("identity %s is encrypted: load it into ssh-agent (ssh-add %s) "+
			"or run mvorch from a terminal to be asked for its passphrase", path, path))
		return nil
	case pub != nil:
		a.add(&lazySigner{pub: pub, path: path, pem: pem, pp: pp, auth: a}, path)
		return nil
	}
	signer, err := pp.decrypt(path, pem)
	if err != nil {
		return err
	}
	a.add(signer, path)
	return nil
}

func readPublicKey(path string) ssh.PublicKey {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	pub, _, _, _, err := ssh.ParseAuthorizedKey(data)
	if err != nil {
		return nil
	}
	return pub
}

// error explains a failed user authentication.
func (a *authenticator) error(cfg Config, err error) *AuthError {
	return &AuthError{
		Host:       cfg.Name,
		Address:    net.JoinHostPort(cfg.Address, strconv.Itoa(cfg.Port)),
		User:       cfg.User,
		Identities: a.offered,
		Skipped:    a.skipped,
		Err:        err,
	}
}

// AuthError: the host refused every identity offered. Only public keys are
// offered; mvorch runs unattended, so passwords are never asked.
type AuthError struct {
	Host       string   // inventory name
	Address    string   // host:port as dialled
	User       string   // login user
	Identities []string // offered, in order: agent keys, then files, with type and fingerprint
	Skipped    []string // identities that could not be offered, and why
	Err        error    // the library's error
}

func (e *AuthError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "authenticating as %s with public keys: ", e.User)
	if len(e.Identities) == 0 {
		b.WriteString("no identity to offer")
	} else {
		fmt.Fprintf(&b, "no identity accepted (offered %s)", strings.Join(e.Identities, ", "))
	}
	if len(e.Skipped) > 0 {
		fmt.Fprintf(&b, "; not offered: %s", strings.Join(e.Skipped, "; "))
	}
	fmt.Fprintf(&b, ": %v", e.Err)
	return b.String()
}

func (e *AuthError) Unwrap() error { return e.Err }

// Passphrases asks for the passphrases of encrypted identity files and keeps
// the decrypted keys, so that the parallel Dials of one command ask once per
// file, not once per host. Safe for concurrent use.
type Passphrases struct {
	ask  func(file string) ([]byte, error)
	mu   sync.Mutex
	keys map[string]decrypted // by file path
}

type decrypted struct {
	signer ssh.Signer
	err    error
}

// NewPassphrases returns a Passphrases that calls ask for each encrypted file
// it needs. A nil ask never asks: such files are skipped with a note.
func NewPassphrases(ask func(file string) ([]byte, error)) *Passphrases {
	return &Passphrases{ask: ask}
}

// TerminalPassphrases asks on the terminal, when standard input is one.
func TerminalPassphrases() *Passphrases {
	fd := int(os.Stdin.Fd())
	if !term.IsTerminal(fd) {
		return NewPassphrases(nil)
	}
	return NewPassphrases(func(file string) ([]byte, error) {
		fmt.Fprintf(os.Stderr, "Enter passphrase for %s: ", file)
		defer fmt.Fprintln(os.Stderr)
		return term.ReadPassword(fd)
	})
}

func (p *Passphrases) canAsk() bool { return p != nil && p.ask != nil }

// decrypt returns the key in pem, asking for its passphrase the first time.
// The lock is held while the user types, so that other Dials needing the same
// file wait for this answer instead of asking again. A wrong passphrase is
// remembered too: asking every host's Dial again would only repeat it.
func (p *Passphrases) decrypt(path string, pem []byte) (ssh.Signer, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if d, ok := p.keys[path]; ok {
		return d.signer, d.err
	}
	var d decrypted
	pass, err := p.ask(path)
	if err == nil {
		d.signer, err = ssh.ParsePrivateKeyWithPassphrase(pem, pass)
		clear(pass)
	}
	if err != nil {
		d.err = fmt.Errorf("decrypting identity %s: %w", path, err)
	}
	if p.keys == nil {
		p.keys = map[string]decrypted{}
	}
	p.keys[path] = d
	return d.signer, d.err
}

// lazySigner offers an encrypted key by its public half and decrypts it
// only when the host accepts that key and a signature is due.
type lazySigner struct {
	pub  ssh.PublicKey
	path string
	pem  []byte
	pp   *Passphrases
	auth *authenticator // for pause
}

func (s *lazySigner) PublicKey() ssh.PublicKey { return s.pub }

func (s *lazySigner) Sign(rand io.Reader, data []byte) (*ssh.Signature, error) {
	return s.SignWithAlgorithm(rand, data, "")
}

func (s *lazySigner) SignWithAlgorithm(rand io.Reader, data []byte, algorithm string) (*ssh.Signature, error) {
	resume := s.auth.pause()
	signer, err := s.pp.decrypt(s.path, s.pem)
	resume()
	if err != nil {
		return nil, err
	}
	as, ok := signer.(ssh.AlgorithmSigner)
	if !ok {
		return nil, fmt.Errorf("identity %s: key type %s cannot sign with %s", s.path, s.pub.Type(), algorithm)
	}
	return as.SignWithAlgorithm(rand, data, algorithm)
}

// Algorithms lets the library pick rsa-sha2-* for RSA keys, which it does only
// for signers that say they support them.
func (s *lazySigner) Algorithms() []string {
	if s.pub.Type() == ssh.KeyAlgoRSA {
		return []string{ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSA}
	}
	return []string{s.pub.Type()}
}
