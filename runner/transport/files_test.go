package transport

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestWriteFileAtomicNewAndReplace(t *testing.T) {
	forEachTransfer(t, func(t *testing.T, c *Client) {
		dir := t.TempDir()
		target := filepath.Join(dir, "ifcfg-ens33.10")

		if err := c.WriteFileAtomic(t.Context(), target, []byte("VLAN=yes\n"), 0o640); err != nil {
			t.Fatal(err)
		}
		assertFile(t, target, "VLAN=yes\n", 0o640)
		before, _ := os.Stat(target)

		if err := c.WriteFileAtomic(t.Context(), target, []byte("VLAN=no\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		assertFile(t, target, "VLAN=no\n", 0o600)
		after, _ := os.Stat(target)
		if os.SameFile(before, after) {
			t.Error("target was rewritten in place; want a new file renamed over it")
		}
		assertOnlyFiles(t, dir, "ifcfg-ens33.10")
	})
}

func TestWriteFileAtomicFailures(t *testing.T) {
	forEachTransfer(t, func(t *testing.T, c *Client) {
		dir := t.TempDir()

		missing := filepath.Join(dir, "no-such-dir", "f")
		err := c.WriteFileAtomic(t.Context(), missing, []byte("x"), 0o644)
		if err == nil || !strings.HasPrefix(err.Error(), "write-file-atomic "+missing+": ") {
			t.Errorf("missing directory: got %v", err)
		}

		// Renaming a file over a non-empty directory fails after the temp file
		// was written: the temp must go, the directory must stay.
		busy := filepath.Join(dir, "busy")
		os.MkdirAll(filepath.Join(busy, "child"), 0o755)
		if err := c.WriteFileAtomic(t.Context(), busy, []byte("x"), 0o644); err == nil {
			t.Error("writing over a non-empty directory succeeded")
		}
		assertOnlyFiles(t, dir, "busy")

		// Cancelled after the temp file was created: the old target is intact.
		target := filepath.Join(dir, "daemon.json")
		os.WriteFile(target, []byte("old"), 0o644)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		err = c.WriteFileAtomic(ctx, target, []byte("new"), 0o644)
		if !errors.Is(err, context.Canceled) || !strings.HasPrefix(err.Error(), "write-file-atomic "+target+": ") {
			t.Errorf("cancelled: got %v", err)
		}
		assertFile(t, target, "old", 0o644)
		assertOnlyFiles(t, dir, "busy", "daemon.json")
	})
}

func TestReadFile(t *testing.T) {
	forEachTransfer(t, func(t *testing.T, c *Client) {
		dir := t.TempDir()
		p := filepath.Join(dir, "f")
		os.WriteFile(p, []byte("content"), 0o600)
		os.Chmod(p, 0o600)

		data, mode, exists, err := c.ReadFile(t.Context(), p)
		if err != nil || !exists || string(data) != "content" || mode.Perm() != 0o600 {
			t.Errorf("ReadFile = %q, %v, %v, %v", data, mode, exists, err)
		}
		data, mode, exists, err = c.ReadFile(t.Context(), filepath.Join(dir, "missing"))
		if err != nil || exists || data != nil || mode != 0 {
			t.Errorf("ReadFile(missing) = %q, %v, %v, %v; want nil, 0, false, nil", data, mode, exists, err)
		}
		if _, _, _, err := c.ReadFile(t.Context(), dir); err == nil {
			t.Error("ReadFile(directory) succeeded")
		}
	})
}

func TestRemove(t *testing.T) {
	forEachTransfer(t, func(t *testing.T, c *Client) {
		p := filepath.Join(t.TempDir(), "f")
		os.WriteFile(p, nil, 0o644)
		if err := c.Remove(t.Context(), p); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(p); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("file still there: %v", err)
		}
		if err := c.Remove(t.Context(), p); err != nil {
			t.Errorf("removing a missing file: %v", err)
		}
	})
}

func TestMkdirAll(t *testing.T) {
	forEachTransfer(t, func(t *testing.T, c *Client) {
		base := t.TempDir()
		os.Chmod(base, 0o755)
		p := filepath.Join(base, "a", "b")
		if err := c.MkdirAll(t.Context(), p, 0o750); err != nil {
			t.Fatal(err)
		}
		for _, d := range []string{filepath.Join(base, "a"), p} {
			if st, err := os.Stat(d); err != nil || !st.IsDir() || st.Mode().Perm() != 0o750 {
				t.Errorf("%s: %v %v", d, st, err)
			}
		}
		if st, _ := os.Stat(base); st.Mode().Perm() != 0o755 {
			t.Errorf("existing directory's mode changed to %v", st.Mode().Perm())
		}
		if err := c.MkdirAll(t.Context(), p, 0o700); err != nil {
			t.Errorf("MkdirAll on an existing directory: %v", err)
		}
		f := filepath.Join(base, "file")
		os.WriteFile(f, nil, 0o644)
		if err := c.MkdirAll(t.Context(), filepath.Join(f, "x"), 0o755); err == nil {
			t.Error("MkdirAll under a file succeeded")
		}
	})
}

// forEachTransfer runs test once per file transfer: SFTP, and shell
// commands over exec on a server that refuses the sftp subsystem, as the
// login user and through sudo; after it, the client must say which
// transfer it used.
func forEachTransfer(t *testing.T, test func(t *testing.T, c *Client)) {
	for _, tr := range []struct {
		want   string
		opts   serverOptions
		become string
	}{
		{"sftp", serverOptions{}, ""},
		{"exec (no SFTP)", serverOptions{noSFTP: true}, ""},
		{"exec via sudo (no SFTP)", serverOptions{noSFTP: true}, "sudo"},
	} {
		t.Run(tr.want, func(t *testing.T) {
			if tr.become != "" {
				if err := exec.Command("sudo", "-n", "true").Run(); err != nil {
					t.Skipf("no sudo without a password here: %v", err)
				}
			}
			f := newFixture(t, tr.opts)
			f.cfg.Become = tr.become
			c := f.dial(t)
			test(t, c)
			if got := c.Transfer(); got != tr.want {
				t.Errorf("Transfer() = %q, want %q", got, tr.want)
			}
		})
	}
}

func assertFile(t *testing.T, p, content string, mode fs.FileMode) {
	t.Helper()
	st, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, p); got != content || st.Mode().Perm() != mode {
		t.Errorf("%s = %q mode %v, want %q mode %v", p, got, st.Mode().Perm(), content, mode)
	}
}

// assertOnlyFiles fails on anything else in dir, such as a temp file left behind.
func assertOnlyFiles(t *testing.T, dir string, names ...string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	if strings.Join(got, ",") != strings.Join(names, ",") {
		t.Errorf("%s holds %q, want %q", dir, got, names)
	}
}
