package main

import (
	"context"
	"io"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

// First interrupt: the command's context ends; second: the in-flight one;
// third: exit. Each says what it does.
func TestInterruptsFirstSecondThird(t *testing.T) {
	sigs, done := make(chan os.Signal), make(chan struct{})
	defer close(done)
	ctx, first := context.WithCancel(context.Background())
	inFlight, second := context.WithCancel(context.Background())
	exited := make(chan struct{})
	pr, pw := io.Pipe()
	go interrupts(sigs, done, pw, first, second, func() { close(exited) })
	lines := make(chan string, 3)
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := pr.Read(buf)
			if err != nil {
				return
			}
			lines <- string(buf[:n])
		}
	}()
	step := func(want string) {
		t.Helper()
		sigs <- syscall.SIGINT
		select {
		case l := <-lines:
			if !strings.Contains(l, want) {
				t.Errorf("said %q, want %q", l, want)
			}
		case <-time.After(2 * time.Second):
			t.Fatalf("nothing said after a signal (want %q)", want)
		}
	}
	step("finishing the changes in flight")
	<-ctx.Done()
	if inFlight.Err() != nil {
		t.Fatal("the first interrupt ended the changes in flight")
	}
	step("no more waiting")
	<-inFlight.Done()
	select {
	case <-exited:
		t.Fatal("exited after two interrupts")
	default:
	}
	step("exiting now")
	<-exited
}
