package main

import (
	"bufio"
	"fmt"
	"maps"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mvorch/mvorch/testbed/labtest"
)

// startRun starts `mvorch run` and returns once it has made its first change
// (it holds the hosts' locks from before its plan until it exits), with the
// way to wait for it: once its stderr is read to the end, then Wait (os/exec
// forbids Wait while the pipe is still being read).
func startRun(t *testing.T, lab *labtest.Lab, inv string) (*exec.Cmd, func() error) {
	t.Helper()
	cmd := exec.Command(lab.Mvorch, "run", inv)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	first, read := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(read)
		sc := bufio.NewScanner(stderr)
		for i := 0; sc.Scan(); i++ {
			if i == 0 {
				close(first)
			}
		}
	}()
	select {
	case <-first:
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		<-read
		cmd.Wait()
		t.Fatal("mvorch run printed no progress in 30 s")
	}
	return cmd, func() error { <-read; return cmd.Wait() }
}

// A second mvorch against hosts one is changing fails at once, naming the
// holder; a lock left by a killed mvorch does not block the next one.
func TestLabLockPerHost(t *testing.T) {
	lab := labtest.Get(t)
	inv := lab.Inventory()
	before := lab.Snapshots(t)
	t.Cleanup(func() { lab.Reset(t, inv, before) })

	first, waitFirst := startRun(t, lab, inv)
	start := time.Now()
	r := lab.RunMvorch(t, "run", inv)
	if r.Code != 1 || !strings.Contains(r.Stderr, "another mvorch is changing this host") ||
		!strings.Contains(r.Stderr, "pid "+itoa(first.Process.Pid)) || time.Since(start) > 5*time.Second {
		t.Errorf("second run while the first holds the lock: exit %d after %s\n%s", r.Code, time.Since(start), r.Stderr)
	}
	if r := lab.RunMvorch(t, "rollback", "--yes", inv); r.Code != 1 || !strings.Contains(r.Stderr, "another mvorch is changing this host") {
		t.Errorf("rollback while a run holds the lock: exit %d\n%s", r.Code, r.Stderr)
	}
	if err := waitFirst(); err != nil {
		t.Fatalf("first run: %v", err)
	}

	lab.MustMvorch(t, "rollback", "--all", "--yes", inv)
	killed, waitKilled := startRun(t, lab, inv)
	killed.Process.Kill()
	waitKilled()
	start = time.Now()
	lab.MustMvorch(t, "run", inv)
	t.Logf("run after a killed run got the lock and converged in %s", time.Since(start))
}

func itoa(n int) string { return strconv.Itoa(n) }

// With the one shell (the default) a whole run, lock and facts included,
// costs each host one SSH session where the login shell is slow, so it and
// sudo are paid once per host; a no-op run too. Where sessions are cheap (a
// bare login shell), a command that finds the shell busy (the ping check
// started beside the facts) runs on a session of its own instead of
// waiting, and -v says so. MVORCH_ONE_SHELL=0 goes back to a session per
// command, and the lock in one of its own.
func TestLabOneSessionPerHost(t *testing.T) {
	lab := labtest.Get(t)
	inv := lab.Inventory()
	before := lab.Snapshots(t)
	t.Cleanup(func() { lab.Reset(t, inv, before) })
	// sessions returns the sessions per host and, of them, those of
	// commands that found the shell busy.
	sessions := func(r labtest.Result) (all, spilled map[string]int) {
		all, spilled = map[string]int{}, map[string]int{}
		for _, l := range strings.Split(r.Stderr, "\n") {
			var host string
			var n int
			if _, err := fmt.Sscanf(l, "%s %d ssh sessions", &host, &n); err == nil {
				all[strings.TrimSuffix(host, ":")] = n
			}
			if _, err := fmt.Sscanf(l, "%s %d of them for commands that found the one shell busy", &host, &n); err == nil {
				spilled[strings.TrimSuffix(host, ":")] = n
			}
		}
		return all, spilled
	}
	hosts := []string{"docker01", "docker02"}
	// A login shell that takes 0.3 s (root's .bashrc, as pyenv init would)
	// and greets on stdout and stderr: every command waits its turn in the
	// one shell, and the greeting is in no command's output.
	for _, h := range hosts {
		lab.MustExec(t, h, "printf 'echo Welcome to this host; printf \"%%s\" no-newline; echo a warning >&2; sleep 0.3\\n' > /root/.bashrc")
	}
	one := map[string]int{"docker01": 1, "docker02": 1}
	for _, run := range []string{"cold", "no-op"} {
		if all, spilled := sessions(lab.MustMvorch(t, "-v", "run", inv)); !maps.Equal(all, one) || len(spilled) != 0 {
			t.Errorf("slow login shell, %s run: ssh sessions per host %v (for a busy shell %v), want %v", run, all, spilled, one)
		}
	}
	for _, h := range hosts {
		lab.MustExec(t, h, "rm /root/.bashrc")
	}
	// A bare login shell: the no-op run's ping check starts beside the
	// facts, and the one that finds the shell busy (which one, and whether
	// they meet, is a race) does not wait for the other.
	all, spilled := sessions(lab.MustMvorch(t, "-v", "run", inv))
	for _, h := range hosts {
		if all[h] != 1+spilled[h] {
			t.Errorf("bare login shell, no-op run: %s had %d ssh sessions, %d for a busy shell; want the shell's and those", h, all[h], spilled[h])
		}
	}
	// Without it, the same no-op run takes a session for the lock and one
	// for the ping check.
	t.Setenv("MVORCH_ONE_SHELL", "0")
	all, spilled = sessions(lab.MustMvorch(t, "-v", "run", inv))
	for _, h := range hosts {
		if all[h] < 2 || len(spilled) != 0 {
			t.Errorf("MVORCH_ONE_SHELL=0: %s had %d ssh sessions for a no-op run (%v for a busy shell), want 2 or more (none)", h, all[h], spilled)
		}
	}
}
