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

	"github.com/pkg/sftp"
)

// The SFTP calls take no context: ctx is checked between them, so a
// cancelled operation stops at the next step, and WriteFileAtomic never
// renames after its context ended.

// sftpClient opens the connection's one SFTP session on first use. Its
// session slot stays taken until Close.
func (c *Client) sftpClient(ctx context.Context) (*sftp.Client, error) {
	c.sftpMu.Lock()
	defer c.sftpMu.Unlock()
	if c.sftp != nil {
		return c.sftp, nil
	}
	release, err := c.acquireSession(ctx)
	if err != nil {
		return nil, err
	}
	open := func() (*sftp.Client, error) { return sftp.NewClient(c.conn) }
	if c.cfg.Become != "" {
		open = c.becomeSFTP
	}
	sc, err := openWithContext(ctx, open, (*sftp.Client).Close, release)
	if err != nil {
		return nil, c.connErr(fmt.Errorf("starting sftp: %w", err))
	}
	c.sftp = sc
	return sc, nil
}

// ReadFile returns a file's content and mode. A missing file is not an
// error: exists is false.
func (c *Client) ReadFile(ctx context.Context, p string) (data []byte, mode fs.FileMode, exists bool, err error) {
	data, mode, err = c.readFile(ctx, p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, 0, false, nil
	}
	if err != nil {
		return nil, 0, false, fmt.Errorf("reading %s: %w", p, c.connErr(err))
	}
	return data, mode, true, nil
}

func (c *Client) readFile(ctx context.Context, p string) ([]byte, fs.FileMode, error) {
	sc, err := c.sftpClient(ctx)
	if err != nil {
		return nil, 0, err
	}
	f, err := sc.Open(p)
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, 0, err
	}
	if st.IsDir() {
		return nil, 0, errors.New("is a directory")
	}
	data, err := io.ReadAll(f)
	return data, st.Mode(), err
}

// WriteFileAtomic replaces p with data and mode so that readers of p see the
// old file or the new one, never a part: a temp file in the same directory
// (rename cannot cross file systems) is written, then renamed over p with
// posix-rename@openssh.com. p is never truncated in place. A symlink at p
// is replaced by the file, not followed. The new file's owner is the login
// user: mvorch writes root's files as root.
func (c *Client) WriteFileAtomic(ctx context.Context, p string, data []byte, mode fs.FileMode) error {
	if err := c.writeFileAtomic(ctx, p, data, mode); err != nil {
		return fmt.Errorf("write-file-atomic %s: %w", p, c.connErr(err))
	}
	return nil
}

func (c *Client) writeFileAtomic(ctx context.Context, p string, data []byte, mode fs.FileMode) error {
	sc, err := c.sftpClient(ctx)
	if err != nil {
		return err
	}
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

// Remove removes a file or an empty directory; a missing one is no error,
// so that undoing twice is harmless.
func (c *Client) Remove(ctx context.Context, p string) error {
	sc, err := c.sftpClient(ctx)
	if err == nil {
		err = sc.Remove(p)
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("removing %s: %w", p, c.connErr(err))
	}
	return nil
}

// MkdirAll creates p and any missing parents with mode; directories that
// exist are left as they are.
func (c *Client) MkdirAll(ctx context.Context, p string, mode fs.FileMode) error {
	if err := c.mkdirAll(ctx, path.Clean(p), mode); err != nil {
		return fmt.Errorf("creating directory %s: %w", p, c.connErr(err))
	}
	return nil
}

func (c *Client) mkdirAll(ctx context.Context, p string, mode fs.FileMode) error {
	sc, err := c.sftpClient(ctx)
	if err != nil {
		return err
	}
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
		if err := c.mkdirAll(ctx, parent, mode); err != nil {
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
