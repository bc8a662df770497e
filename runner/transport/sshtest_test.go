package transport

// An in-process SSH server for the tests: real golang.org/x/crypto/ssh on
// 127.0.0.1, "exec" run by /bin/sh -c, and the "sftp" subsystem served by
// github.com/pkg/sftp on the local file system, so every code path of the
// client talks to a real peer.

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
)

type serverOptions struct {
	hostKeys []ssh.Signer // default: one new ed25519 key
	stall    bool         // after the handshake, answer nothing at all
	noSFTP   bool         // refuse the sftp subsystem, like an sshd without a Subsystem line
}

type testServer struct {
	t        testing.TB
	addr     string // 127.0.0.1:PORT
	port     int
	hostKeys []ssh.Signer
	opts     serverOptions

	authMu     sync.Mutex
	authorized map[string]bool // marshalled client public keys

	active    atomic.Int32 // open sessions
	maxActive atomic.Int32
	signals   chan string // signals received by exec sessions

	stop    chan struct{} // closed at cleanup
	wg      sync.WaitGroup
	connsMu sync.Mutex
	conns   []net.Conn
}

func newTestServer(t testing.TB, opts serverOptions) *testServer {
	t.Helper()
	if len(opts.hostKeys) == 0 {
		opts.hostKeys = []ssh.Signer{newEd25519Signer(t)}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &testServer{
		t:          t,
		addr:       ln.Addr().String(),
		port:       ln.Addr().(*net.TCPAddr).Port,
		hostKeys:   opts.hostKeys,
		opts:       opts,
		authorized: map[string]bool{},
		signals:    make(chan string, 16),
		stop:       make(chan struct{}),
	}
	t.Cleanup(func() {
		ln.Close()
		close(s.stop)
		s.connsMu.Lock()
		for _, c := range s.conns {
			c.Close()
		}
		s.connsMu.Unlock()
		s.wg.Wait()
	})
	go s.serve(ln)
	return s
}

func (s *testServer) authorize(pub ssh.PublicKey) {
	s.authMu.Lock()
	defer s.authMu.Unlock()
	s.authorized[string(pub.Marshal())] = true
}

func (s *testServer) config() *ssh.ServerConfig {
	cfg := &ssh.ServerConfig{
		PublicKeyCallback: func(_ ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
			s.authMu.Lock()
			defer s.authMu.Unlock()
			if s.authorized[string(key.Marshal())] {
				return nil, nil
			}
			return nil, errors.New("key not authorized")
		},
	}
	for _, k := range s.hostKeys {
		cfg.AddHostKey(k)
	}
	return cfg
}

func (s *testServer) serve(ln net.Listener) {
	cfg := s.config()
	for {
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		s.connsMu.Lock()
		s.conns = append(s.conns, nc)
		s.connsMu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.handleConn(nc, cfg)
		}()
	}
}

func (s *testServer) handleConn(nc net.Conn, cfg *ssh.ServerConfig) {
	defer nc.Close()
	sc, chans, reqs, err := ssh.NewServerConn(nc, cfg)
	if err != nil {
		return
	}
	defer sc.Close()
	if s.opts.stall {
		// Read nothing and reply to nothing, as a host that froze would:
		// keepalives go unanswered, channels are never confirmed.
		<-s.stop
		return
	}
	go ssh.DiscardRequests(reqs) // replies false to keepalives: an answer all the same
	for nch := range chans {
		if nch.ChannelType() != "session" {
			nch.Reject(ssh.UnknownChannelType, "only sessions")
			continue
		}
		ch, chReqs, err := nch.Accept()
		if err != nil {
			return
		}
		go s.session(ch, chReqs)
	}
}

// session serves one channel. The session count drops before the channel
// closes, so the count never includes a session the client already let go.
func (s *testServer) session(ch ssh.Channel, reqs <-chan *ssh.Request) {
	n := s.active.Add(1)
	for m := s.maxActive.Load(); n > m && !s.maxActive.CompareAndSwap(m, n); m = s.maxActive.Load() {
	}
	var once sync.Once
	done := func() { once.Do(func() { s.active.Add(-1) }) }
	defer ch.Close()
	defer done()

	var proc atomic.Pointer[os.Process]
	for req := range reqs {
		switch req.Type {
		case "exec":
			var p struct{ Command string }
			ssh.Unmarshal(req.Payload, &p)
			req.Reply(true, nil)
			go s.exec(ch, p.Command, &proc, done)
		case "subsystem":
			var p struct{ Name string }
			ssh.Unmarshal(req.Payload, &p)
			serve := p.Name == "sftp" && !s.opts.noSFTP
			req.Reply(serve, nil)
			if serve {
				go s.sftp(ch, done)
			}
		case "signal":
			var p struct{ Signal string }
			ssh.Unmarshal(req.Payload, &p)
			s.signals <- p.Signal
			if pr := proc.Load(); pr != nil && p.Signal == "KILL" {
				pr.Kill()
			}
		default:
			req.Reply(false, nil)
		}
	}
	// The client closed the channel: leave no process behind.
	if pr := proc.Load(); pr != nil {
		pr.Kill()
	}
}

func (s *testServer) exec(ch ssh.Channel, command string, proc *atomic.Pointer[os.Process], done func()) {
	cmd := exec.Command("/bin/sh", "-c", command)
	cmd.Stdout, cmd.Stderr = ch, ch.Stderr()
	cmd.WaitDelay = time.Second
	status := 127
	// As sshd does, the session ends when the command does, whether or not
	// the client has closed its stdin: the copy to the command's stdin is
	// not waited for (Wait closes the pipe; closing ch ends the copy).
	stdin, err := cmd.StdinPipe()
	if err == nil {
		err = cmd.Start()
	}
	if err == nil {
		proc.Store(cmd.Process)
		go func() {
			_, _ = io.Copy(stdin, ch)
			stdin.Close()
		}()
		status = exitStatus(cmd.Wait())
	}
	ch.SendRequest("exit-status", false, ssh.Marshal(struct{ Status uint32 }{uint32(status)}))
	done()
	ch.Close()
}

func exitStatus(err error) int {
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return 0
	}
	if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ee.ExitCode()
}

func (s *testServer) sftp(ch ssh.Channel, done func()) {
	srv, err := sftp.NewServer(ch)
	if err == nil {
		srv.Serve()
	}
	done()
	ch.Close()
}

// Keys and files.

func newEd25519Signer(t testing.TB) ssh.Signer {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func newECDSASigner(t testing.TB) ssh.Signer {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// writeIdentity writes a new ed25519 identity file (encrypted when
// passphrase is not empty) and returns its path and public key.
func writeIdentity(t testing.TB, dir, name, passphrase string) (string, ssh.PublicKey) {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	var block *pem.Block
	if passphrase == "" {
		block, err = ssh.MarshalPrivateKey(priv, "test")
	} else {
		block, err = ssh.MarshalPrivateKeyWithPassphrase(priv, "test", []byte(passphrase))
	}
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return path, sshPub
}

// fixture is a server, an authorized identity, a known_hosts file that
// holds the server's first host key, and a Config that uses them.
type fixture struct {
	srv        *testServer
	dir        string
	knownHosts string
	cfg        Config
}

func newFixture(t testing.TB, opts serverOptions) *fixture {
	t.Helper()
	isolate(t)
	dir := t.TempDir()
	srv := newTestServer(t, opts)
	id, pub := writeIdentity(t, dir, "id_test", "")
	srv.authorize(pub)
	f := &fixture{srv: srv, dir: dir, knownHosts: filepath.Join(dir, "known_hosts")}
	f.writeKnownHosts(t, knownLine(srv.port, srv.hostKeys[0].PublicKey()))
	f.cfg = Config{
		Name:           "h1",
		Address:        "127.0.0.1",
		Port:           srv.port,
		IdentityFiles:  []string{id},
		KnownHostsFile: f.knownHosts,
		ConnectTimeout: 2 * time.Second,
		Passphrases:    NewPassphrases(nil),
	}
	return f
}

func (f *fixture) writeKnownHosts(t testing.TB, lines ...string) {
	t.Helper()
	var data []byte
	for _, l := range lines {
		data = append(data, l+"\n"...)
	}
	if err := os.WriteFile(f.knownHosts, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) dial(t testing.TB) *Client {
	t.Helper()
	c, err := Dial(t.Context(), f.cfg)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func knownLine(port int, key ssh.PublicKey) string {
	return "[127.0.0.1]:" + strconv.Itoa(port) + " " + string(trimNewline(ssh.MarshalAuthorizedKey(key)))
}

func trimNewline(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\n' {
		return b[:n-1]
	}
	return b
}

// isolate keeps the developer's own agent and ~/.ssh out of the tests.
func isolate(t testing.TB) {
	t.Setenv("SSH_AUTH_SOCK", "")
	t.Setenv("HOME", t.TempDir())
}
