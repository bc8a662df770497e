package transport

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// lockFree says whether nobody holds the flock on p (tried from outside
// the shell, as another mvorch would).
func lockFree(t *testing.T, p string) bool {
	t.Helper()
	err := exec.Command("flock", "-n", "-E", "75", p, "true").Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return true
	case errors.As(err, &exit) && exit.ExitCode() == 75:
		return false
	}
	t.Fatalf("flock: %v", err)
	return false
}

// runningShell is c's shell now.
func runningShell(c *Client) *remoteShell {
	c.shellMu.Lock()
	defer c.shellMu.Unlock()
	return c.shell
}

// waitLock waits up to d for the lock on p to be free (or held: free false).
func waitLock(t *testing.T, p string, free bool, d time.Duration) bool {
	t.Helper()
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		if lockFree(t, p) == free {
			return true
		}
	}
	return false
}

// The shell itself holds the lock: taken, refused to a second holder with
// 75, released on release and when the connection closes, through the one
// session the commands use; commands the shell starts, even ones that
// outlive it, do not hold it.
func TestShellLock(t *testing.T) {
	f, c := dialShell(t)
	p := filepath.Join(f.dir, "sub", "dir", "lock")
	release, err := c.ShellLock(t.Context(), p)
	if err != nil {
		t.Fatal(err)
	}
	if lockFree(t, p) {
		t.Fatal("the lock is free after ShellLock")
	}
	other := f.dial(t)
	_, err = other.ShellLock(t.Context(), p)
	var exit *ExitError
	if !errors.As(err, &exit) || exit.Code != 75 || exit.Host != "h1" {
		t.Fatalf("second holder: got %v, want exit 75 naming the host", err)
	}
	// A command that leaves a process behind: it must not keep the lock.
	if _, err := c.Run(t.Context(), "sleep 5 </dev/null >/dev/null 2>&1 &", nil); err != nil {
		t.Fatal(err)
	}
	release()
	if !waitLock(t, p, true, 2*time.Second) {
		t.Fatal("the lock is still held after release")
	}
	if _, err := other.ShellLock(t.Context(), p); err != nil {
		t.Fatalf("after release: %v", err)
	}
	other.Close()
	if !waitLock(t, p, true, 2*time.Second) {
		t.Fatal("the lock is still held after its connection closed")
	}
	if n := c.Sessions(); n != 1 {
		t.Errorf("%d sessions for the lock and a command, want 1", n)
	}
	if _, err := c.ShellLock(t.Context(), "relative/lock"); err == nil {
		t.Error("a relative lock path was taken")
	}
	// A lock file that cannot be made is an error with the shell's
	// complaint, and the shell goes on.
	file := filepath.Join(f.dir, "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = c.ShellLock(t.Context(), filepath.Join(file, "lock"))
	if !errors.As(err, &exit) || exit.Code == 0 || exit.Code == 75 || !strings.Contains(exit.Stderr, "file") {
		t.Errorf("lock under a file: got %v", err)
	}
	if res, err := c.Run(t.Context(), "echo on", nil); err != nil || string(res.Stdout) != "on\n" {
		t.Errorf("after a failed lock: %q %v", res.Stdout, err)
	}
}

// A shell that hears nothing from mvorch (its link cut) ends, and frees the
// lock; one that gets heartbeats holds it, also while a command runs.
func TestShellLockSilence(t *testing.T) {
	f := newFixture(t, serverOptions{})
	f.cfg.OneShell = true
	beating, silent := f.dial(t), f.dial(t)
	for _, c := range []*Client{beating, silent} {
		c.shellCheck, c.shellChecks = "0.2", 5 // about a second
		c.shellPOSIX = posixShell
	}
	beating.shellBeat = 100 * time.Millisecond
	silent.shellBeat = time.Hour
	p1, p2 := filepath.Join(f.dir, "beating"), filepath.Join(f.dir, "silent")
	if _, err := beating.ShellLock(t.Context(), p1); err != nil {
		t.Fatal(err)
	}
	if _, err := silent.ShellLock(t.Context(), p2); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := beating.Run(t.Context(), "sleep 3", nil)
		done <- err
	}()
	if !waitLock(t, p2, true, 5*time.Second) {
		t.Error("the silent shell still holds its lock")
	}
	if lockFree(t, p1) {
		t.Error("the shell with heartbeats freed its lock")
	}
	if err := <-done; err != nil {
		t.Error(err)
	}
	if lockFree(t, p1) {
		t.Error("the shell with heartbeats freed its lock after a long command")
	}
}

// A shell dropped after a command that could not be ended is replaced by one
// that takes the lock again.
func TestShellLockTakenAgain(t *testing.T) {
	f, c := dialShell(t)
	p := filepath.Join(f.dir, "lock")
	if _, err := c.ShellLock(t.Context(), p); err != nil {
		t.Fatal(err)
	}
	c.dropShell(runningShell(c))
	if !waitLock(t, p, true, 2*time.Second) {
		t.Fatal("the lock outlived its shell")
	}
	if _, err := c.Run(t.Context(), "true", nil); err != nil {
		t.Fatal(err)
	}
	if lockFree(t, p) {
		t.Fatal("the new shell did not take the lock again")
	}
	// Taken by someone else meanwhile: the next command fails, it does not
	// run without the lock.
	c.dropShell(runningShell(c))
	waitLock(t, p, true, 2*time.Second)
	hold := exec.Command("flock", p, "sleep", "3")
	if err := hold.Start(); err != nil {
		t.Fatal(err)
	}
	defer hold.Wait()
	waitLock(t, p, false, 2*time.Second)
	if _, err := c.Run(t.Context(), "true", nil); err == nil {
		t.Error("a command ran in a shell without the lock")
	}
}

// A request cut short (the link cut in its middle: the script, or its
// stdin, never comes in full) ends the shell as silence does, and frees the
// lock.
func TestShellCutRequestEnds(t *testing.T) {
	for _, cut := range []string{"C 100 0\necho", "C 5 100\ntrue\nstdin"} {
		f, c := dialShell(t)
		c.shellCheck, c.shellChecks = "0.2", 5 // about a second
		c.shellBeat = time.Hour
		p := filepath.Join(f.dir, "lock")
		if _, err := c.ShellLock(t.Context(), p); err != nil {
			t.Fatal(err)
		}
		if err := runningShell(c).send([]byte(cut)); err != nil {
			t.Fatal(err)
		}
		if !waitLock(t, p, true, 5*time.Second) {
			t.Errorf("%q: the shell still holds its lock", cut)
		}
	}
}
