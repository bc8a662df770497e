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
// costs each host one SSH session, so a slow login shell and sudo are paid
// once per host; a no-op run too. MVORCH_ONE_SHELL=0 goes back to a session
// per command, and the lock in one of its own.
func TestLabOneSessionPerHost(t *testing.T) {
	lab := labtest.Get(t)
	inv := lab.Inventory()
	before := lab.Snapshots(t)
	t.Cleanup(func() { lab.Reset(t, inv, before) })
	sessions := func(r labtest.Result) map[string]int {
		got := map[string]int{}
		for _, l := range strings.Split(r.Stderr, "\n") {
			var host string
			var n int
			if _, err := fmt.Sscanf(l, "%s %d ssh sessions", &host, &n); err == nil {
				got[strings.TrimSuffix(host, ":")] = n
			}
		}
		return got
	}
	want := map[string]int{"docker01": 1, "docker02": 1}
	if got := sessions(lab.MustMvorch(t, "-v", "run", inv)); !maps.Equal(got, want) {
		t.Errorf("cold run: ssh sessions per host %v, want %v", got, want)
	}
	if got := sessions(lab.MustMvorch(t, "-v", "run", inv)); !maps.Equal(got, want) {
		t.Errorf("no-op run: ssh sessions per host %v, want %v", got, want)
	}
	// Without it, the same no-op run takes a session for the lock and one
	// for the ping check.
	t.Setenv("MVORCH_ONE_SHELL", "0")
	got := sessions(lab.MustMvorch(t, "-v", "run", inv))
	for host := range want {
		if got[host] < 2 {
			t.Errorf("MVORCH_ONE_SHELL=0: %s had %d ssh sessions for a no-op run, want 2 or more", host, got[host])
		}
	}
}
