package transport

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
)

// The SFTP calls take no context: ctx is checked between them, so a
// cancelled operation stops at the next step, and WriteFileAtomic never
// renames after its context ended.

// fileOps is how a connection reads and writes files: over SFTP when the
// host serves it, else with shell commands over exec sessions (a hardened
// sshd may have no `Subsystem sftp` line). Both write the same way: a temp
// file in the same directory, its mode set before the data goes in, synced,
// renamed over the target.
type fileOps interface {
	// read returns an error wrapping fs.ErrNotExist for a missing file.
	read(ctx context.Context, p string) ([]byte, fs.FileMode, error)
	writeAtomic(ctx context.Context, p string, data []byte, mode fs.FileMode) error
	// remove returns an error wrapping fs.ErrNotExist for a missing file.
	remove(ctx context.Context, p string) error
	mkdirAll(ctx context.Context, p string, mode fs.FileMode) error
	// name says which transfer this is, for -v.
	name() string
}

// errNoSFTP marks a host whose sshd refuses the sftp subsystem.
var errNoSFTP = errors.New("the host serves no SFTP subsystem")

// fileOps picks the connection's transfer on first use: SFTP (through
// sftp-server under sudo with become), or, when the host's sshd refuses
// the sftp subsystem, shell commands over exec sessions (under sudo with
// become, too).
func (c *Client) fileOps(ctx context.Context) (fileOps, error) {
	c.sftpMu.Lock()
	defer c.sftpMu.Unlock()
	if c.files != nil {
		return c.files, nil
	}
	if c.cfg.OneShell {
		// Through the shell: no session, no login shell of its own.
		c.files = execFiles{c}
		return c.files, nil
	}
	sc, err := c.startSFTP(ctx)
	switch {
	case errors.Is(err, errNoSFTP):
		c.files = execFiles{c}
	case err != nil:
		return nil, c.connErr(fmt.Errorf("starting sftp: %w", err))
	default:
		c.sftp = sc
		c.files = sftpFiles{c, sc}
	}
	return c.files, nil
}

// Transfer says how files go to and from the host: "sftp", "sftp via sudo"
// or "exec" (shell commands, the host serving no SFTP); "" before the first
// file operation.
func (c *Client) Transfer() string {
	c.sftpMu.Lock()
	defer c.sftpMu.Unlock()
	if c.files == nil {
		return ""
	}
	return c.files.name()
}

// startSFTP opens the connection's one SFTP session. Its session slot stays
// taken until Close.
func (c *Client) startSFTP(ctx context.Context) (*sftp.Client, error) {
	if c.cfg.Become != "" {
		// sftp-server then runs under sudo on an exec session, which works
		// without the subsystem; but a host whose sshd refuses SFTP is
		// treated alike with or without become.
		if err := c.probeSFTP(ctx); err != nil {
			return nil, err
		}
	}
	release, err := c.acquireSession(ctx)
	if err != nil {
		return nil, err
	}
	open := func() (*sftp.Client, error) {
		sc, err := sftp.NewClient(c.conn)
		return sc, noSFTP(err)
	}
	if c.cfg.Become != "" {
		open = c.becomeSFTP
	}
	return openWithContext(ctx, open, (*sftp.Client).Close, release)
}

// probeSFTP asks for the sftp subsystem on a session of its own and closes
// it: errNoSFTP if the host refuses.
func (c *Client) probeSFTP(ctx context.Context) error {
	release, err := c.acquireSession(ctx)
	if err != nil {
		return err
	}
	sess, err := openWithContext(ctx, c.conn.NewSession, (*ssh.Session).Close, release)
	if err != nil {
		return err
	}
	defer release()
	defer sess.Close()
	return noSFTP(sess.RequestSubsystem("sftp"))
}

// noSFTP turns x/crypto's refusal of a subsystem request into errNoSFTP.
// The library has no sentinel for it, only this message.
func noSFTP(err error) error {
	if err != nil && strings.Contains(err.Error(), "subsystem request failed") {
		return fmt.Errorf("%w (%v)", errNoSFTP, err)
	}
	return err
}

// ReadFile returns a file's content and mode. A missing file is not an
// error: exists is false.
func (c *Client) ReadFile(ctx context.Context, p string) (data []byte, mode fs.FileMode, exists bool, err error) {
	f, err := c.fileOps(ctx)
	if err == nil {
		data, mode, err = f.read(ctx, p)
	}
	if errors.Is(err, fs.ErrNotExist) {
		return nil, 0, false, nil
	}
	if err != nil {
		return nil, 0, false, fmt.Errorf("reading %s: %w", p, c.connErr(err))
	}
	return data, mode, true, nil
}

// WriteFileAtomic replaces p with data and mode so that readers of p see the
// old file or the new one, never a part: a temp file in the same directory
// (rename cannot cross file systems) is written, then renamed over p (with
// posix-rename@openssh.com over SFTP, mv -T over exec). p is never truncated
// in place. A symlink at p is replaced by the file, not followed. The new
// file's owner is the user the transfer runs as: root with become, so
// mvorch writes root's files as root.
func (c *Client) WriteFileAtomic(ctx context.Context, p string, data []byte, mode fs.FileMode) error {
	f, err := c.fileOps(ctx)
	if err == nil {
		err = f.writeAtomic(ctx, p, data, mode)
	}
	if err != nil {
		return fmt.Errorf("write-file-atomic %s: %w", p, c.connErr(err))
	}
	return nil
}

// Remove removes a file or an empty directory; a missing one is no error,
// so that undoing twice is harmless.
func (c *Client) Remove(ctx context.Context, p string) error {
	f, err := c.fileOps(ctx)
	if err == nil {
		err = f.remove(ctx, p)
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("removing %s: %w", p, c.connErr(err))
	}
	return nil
}

// MkdirAll creates p and any missing parents with mode; directories that
// exist are left as they are.
func (c *Client) MkdirAll(ctx context.Context, p string, mode fs.FileMode) error {
	f, err := c.fileOps(ctx)
	if err == nil {
		err = f.mkdirAll(ctx, path.Clean(p), mode)
	}
	if err != nil {
		return fmt.Errorf("creating directory %s: %w", p, c.connErr(err))
	}
	return nil
}

// sftpFiles is the SFTP transfer.
type sftpFiles struct {
	c  *Client
	sc *sftp.Client
}

func (f sftpFiles) name() string {
	if f.c.cfg.Become != "" {
		return "sftp via sudo"
	}
	return "sftp"
}

func (f sftpFiles) read(ctx context.Context, p string) ([]byte, fs.FileMode, error) {
	file, err := f.sc.Open(p)
	if err != nil {
		return nil, 0, err
	}
	defer file.Close()
	st, err := file.Stat()
	if err != nil {
		return nil, 0, err
	}
	if st.IsDir() {
		return nil, 0, errors.New("is a directory")
	}
	data, err := io.ReadAll(file)
	return data, st.Mode(), err
}

func (f sftpFiles) writeAtomic(ctx context.Context, p string, data []byte, mode fs.FileMode) error {
	sc := f.sc
	tmp, err := tempName(p)
	if err != nil {
		return err
	}
	if err := writeTemp(ctx, sc, tmp, data, mode); err != nil {
		sc.Remove(tmp)
		return err
	}
	if err := ctx.Err(); err != nil {
		sc.Remove(tmp)
		return err
	}
	if err := sc.PosixRename(tmp, p); err != nil {
		sc.Remove(tmp)
		return fmt.Errorf("renaming %s: %w", tmp, err)
	}
	return nil
}

func (f sftpFiles) remove(ctx context.Context, p string) error { return f.sc.Remove(p) }

func (f sftpFiles) mkdirAll(ctx context.Context, p string, mode fs.FileMode) error {
	sc := f.sc
	st, err := sc.Stat(p)
	switch {
	case err == nil && st.IsDir():
		return nil
	case err == nil:
		return fmt.Errorf("%s exists and is not a directory", p)
	case !errors.Is(err, fs.ErrNotExist):
		return err
	}
	if parent := path.Dir(p); parent != p {
		if err := f.mkdirAll(ctx, parent, mode); err != nil {
			return err
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := sc.Mkdir(p); err != nil {
		// A parallel MkdirAll may have made it meanwhile; that is success.
		if st, serr := sc.Stat(p); serr == nil && st.IsDir() {
			return nil
		}
		return err
	}
	// Mkdir takes no mode over SFTP; the server's umask applies until this.
	return sc.Chmod(p, mode)
}

// tempName is ".<base>.mvorch-<random>" beside p: hidden, recognisably ours,
// and never a name another run could pick.
func tempName(p string) (string, error) {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return path.Join(path.Dir(p), "."+path.Base(p)+".mvorch-"+hex.EncodeToString(b)), nil
}

// writeTemp creates tmp exclusively, sets its mode before any data goes in
// (so a secret is never readable under a looser default mode), writes and
// syncs it.
func writeTemp(ctx context.Context, sc *sftp.Client, tmp string, data []byte, mode fs.FileMode) error {
	f, err := sc.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL)
	if err != nil {
		return fmt.Errorf("creating %s: %w", tmp, err)
	}
	err = fillTemp(ctx, sc, f, data, mode)
	return errors.Join(err, f.Close())
}

func fillTemp(ctx context.Context, sc *sftp.Client, f *sftp.File, data []byte, mode fs.FileMode) error {
	if err := f.Chmod(mode); err != nil {
		return fmt.Errorf("chmod %s: %w", f.Name(), err)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		return fmt.Errorf("writing %s: %w", f.Name(), err)
	}
	// Without fsync the rename can reach the disk before the data, and a
	// crash would leave an empty file where the old one was.
	if v, ok := sc.HasExtension("fsync@openssh.com"); ok && v == "1" {
		if err := f.Sync(); err != nil {
			return fmt.Errorf("syncing %s: %w", f.Name(), err)
		}
	}
	return nil
}
