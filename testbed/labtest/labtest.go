// Package labtest gives Go tests a real lab (testbed/lab): hosts in network
// namespaces booted by systemd-nspawn, with real systemd, OpenSSH and dockerd.
//
// A test package opts in with
//
//	func TestMain(m *testing.M) { labtest.Main(m, 2) }
//
// Main brings one lab up for the package, then runs the package's tests in a
// child process inside the lab's controller namespace, so that test code (and
// the mvorch binary it starts) reaches the hosts by address. The lab goes down
// when the child exits: when tests pass, fail, panic or are interrupted.
package labtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Environment passed from the parent (root namespace) to the child (inside
// the controller namespace).
const (
	envInside = "MVLAB_INSIDE"
	envName   = "MVLAB_NAME"
	envDir    = "MVLAB_DIR"
	envBin    = "MVLAB_MVORCH"
	envRootNS = "MVLAB_ROOT_NETNS"
)

// Host is one lab host.
type Host struct {
	Name string
	Addr string
	// Flavor is the kind of host: "rhel7", "rhel10" or "ubuntu".
	Flavor string
}

// Lab is a running lab, as seen from inside its controller namespace.
type Lab struct {
	Name  string // namespace prefix, e.g. mvlab-runner
	Dir   string // state directory
	Root  string // module root
	Hosts []Host
	// Mvorch is the path of an mvorch binary built for this test run.
	Mvorch string
	// Bastion is the jump host's address in a lab made with a bastion ("" if none).
	Bastion string
	// RootNetNS is a path to the machine's root network namespace (the outer
	// test process's), for the few tests that must look at the machine itself.
	RootNetNS string
}

var current *Lab
var skipReason string

// Options shape the lab a package gets.
type Options struct {
	Hosts int
	// Bastion: the tests reach the hosts only through a jump host.
	Bastion bool
	// NoSFTP names hosts whose sshd serves no SFTP (MVLAB_NO_SFTP).
	NoSFTP []string
	// Flavors are the hosts' flavours in order, the last repeating
	// (`testbed/lab up N --flavor ...`): "rhel7" (the default), "rhel10",
	// "ubuntu".
	Flavors []string
}

// Main runs the tests of a package against a lab of n hosts. It never returns.
func Main(m *testing.M, n int) { MainWith(m, Options{Hosts: n}) }

// MainWith is Main with more options.
func MainWith(m *testing.M, o Options) {
	n := o.Hosts
	if os.Getenv(envInside) == "1" {
		os.Exit(runInside(m))
	}
	if os.Getenv(envListing) == "1" || !labWanted() {
		os.Exit(m.Run()) // no TestLab* selected: the other tests need no lab
	}
	if reason := unavailable(); reason != "" {
		if os.Getenv("CI") == "true" {
			fmt.Fprintf(os.Stderr, "labtest: CI=true and the lab cannot run here: %s\n", reason)
			os.Exit(1)
		}
		skipReason = reason
		// stdout, which go test shows with -v or in local directory mode;
		// each lab test also shows as SKIP with the reason (see Get).
		fmt.Printf("\n*** LAB TESTS SKIPPED: %s ***\n\n", reason)
		os.Exit(m.Run())
	}
	o.setLabEnv()
	os.Exit(runOutside(n, o))
}

// unavailable says why this machine cannot run a lab, or "" when it can.
func unavailable() string {
	if why := os.Getenv(envUnavailable); why != "" {
		return why // labtest's own tests of what a skip looks like
	}
	if os.Geteuid() != 0 {
		return "not root (the lab creates network namespaces)"
	}
	for _, bin := range []string{"/usr/sbin/dockerd", "/usr/sbin/sshd", "/usr/bin/docker-registry", "/bin/busybox", "/usr/bin/systemd-nspawn"} {
		if _, err := os.Stat(bin); err != nil {
			return bin + " is missing (run 'make deps')"
		}
	}
	if err := exec.Command("unshare", "--net", "true").Run(); err != nil {
		return "cannot create a network namespace: " + err.Error()
	}
	return ""
}

// Get returns the package's lab, or skips the test with the reason the lab
// could not run (never under CI=true: Main fails instead).
func Get(t testing.TB) *Lab {
	t.Helper()
	if current == nil {
		if skipReason == "" {
			t.Fatal("labtest: no lab: call labtest.Main from TestMain")
		}
		t.Skip("lab unavailable: " + skipReason)
	}
	return current
}

// ModuleRoot finds the directory holding go.mod above the working directory.
func ModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("go.mod not found above the working directory")
		}
		dir = parent
	}
}

var nonAlnum = regexp.MustCompile(`[^a-z0-9]+`)

// labName gives each test package its own lab, so packages can run side by side.
func labName(root string) string {
	wd, _ := os.Getwd()
	rel, _ := filepath.Rel(root, wd)
	s := nonAlnum.ReplaceAllString(strings.ToLower(rel), "")
	if len(s) > 20 {
		s = s[len(s)-20:]
	}
	if s == "" {
		s = "root"
	}
	return "mvlab-" + s
}

func runOutside(n int, o Options) int {
	root, err := ModuleRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, "labtest:", err)
		return 1
	}
	name := labName(root)
	dir := filepath.Join(os.TempDir(), name)
	// Two runs of one package's tests would share (and tear down) one lab:
	// the second waits for the first.
	unlock, err := lockLab(filepath.Join(os.TempDir(), name+".lock"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "labtest:", err)
		return 1
	}
	defer unlock()
	env := append(os.Environ(), envName+"="+name, envDir+"="+dir)
	if o.Bastion {
		env = append(env, "MVLAB_BASTION=1")
	}
	lab := func(args ...string) error {
		cmd := exec.Command(filepath.Join(root, "testbed", "lab"), args...)
		cmd.Env = env
		cmd.Stdout = os.Stderr
		cmd.Stderr = os.Stderr
		return cmd.Run()
	}
	// A lab left behind by a killed run of this package is removed first.
	_ = lab("down")
	defer func() { _ = lab("down") }()

	bin, err := buildMvorch(root)
	if err != nil {
		fmt.Fprintln(os.Stderr, "labtest:", err)
		return 1
	}
	defer os.RemoveAll(filepath.Dir(bin))

	start := time.Now()
	up := []string{"up", fmt.Sprint(n)}
	if len(o.Flavors) > 0 {
		up = append(up, "--flavor", strings.Join(o.Flavors, ","))
	}
	if err := lab(up...); err != nil {
		fmt.Fprintf(os.Stderr, "labtest: lab up %d failed: %v\n", n, err)
		return 1
	}
	fmt.Fprintf(os.Stderr, "labtest: %s up with %d host(s) in %.1fs\n", name, n, time.Since(start).Seconds())

	// The tests run in a child inside the controller namespace; this process
	// stays outside to take the lab down whatever becomes of the child.
	args := append([]string{"--net=/var/run/netns/" + name + "-ctl", "--", os.Args[0]}, os.Args[1:]...)
	child := exec.Command("nsenter", args...)
	child.Env = append(env, envInside+"=1", envBin+"="+bin, fmt.Sprintf("%s=/proc/%d/ns/net", envRootNS, os.Getpid()))
	child.Stdin, child.Stdout, child.Stderr = os.Stdin, os.Stdout, os.Stderr
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigs)
	if err := child.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "labtest:", err)
		return 1
	}
	go func() {
		for s := range sigs {
			_ = child.Process.Signal(s)
		}
	}()
	err = child.Wait()
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		if code := exitErr.ExitCode(); code > 0 {
			return code
		}
		return 1
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "labtest:", err)
		return 1
	}
	return 0
}

// lockLab takes an exclusive lock on path, waiting (and saying so) while
// another test process holds it.
func lockLab(path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		fmt.Fprintf(os.Stderr, "labtest: another test run uses this lab (%s); waiting for it\n", path)
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
			f.Close()
			return nil, fmt.Errorf("locking %s: %w", path, err)
		}
	}
	return func() { f.Close() }, nil
}

// buildMvorch builds the binary the tests drive, once per package run.
func buildMvorch(root string) (string, error) {
	tmp, err := os.MkdirTemp("", "mvorch-bin-")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(tmp, "mvorch")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/mvorch")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building mvorch: %v\n%s", err, out)
	}
	return bin, nil
}

func runInside(m *testing.M) int {
	root, err := ModuleRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, "labtest:", err)
		return 1
	}
	l := &Lab{Name: os.Getenv(envName), Dir: os.Getenv(envDir), Root: root, Mvorch: os.Getenv(envBin), RootNetNS: os.Getenv(envRootNS)}
	list, err := os.ReadFile(filepath.Join(l.Dir, "hosts.list"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "labtest:", err)
		return 1
	}
	for _, line := range strings.Split(strings.TrimSpace(string(list)), "\n") {
		f := strings.Fields(line)
		if len(f) == 2 {
			flavor, err := os.ReadFile(filepath.Join(l.Dir, "hosts", f[0], "flavor"))
			if err != nil {
				fmt.Fprintln(os.Stderr, "labtest:", err)
				return 1
			}
			l.Hosts = append(l.Hosts, Host{Name: f[0], Addr: f[1], Flavor: strings.TrimSpace(string(flavor))})
		}
	}
	if b, err := os.ReadFile(filepath.Join(l.Dir, "bastion")); err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 {
			l.Bastion = f[1]
		}
	}
	current = l
	return m.Run()
}

// ClientDir holds the private key, known_hosts and the inventories.
func (l *Lab) ClientDir() string { return filepath.Join(l.Dir, "client") }

// Inventory is the article's section 4.2 for this lab's hosts.
func (l *Lab) Inventory() string { return filepath.Join(l.ClientDir(), "lab.toml") }

// Inventory41 is the article's section 4.1 for this lab's hosts.
func (l *Lab) Inventory41() string { return filepath.Join(l.ClientDir(), "lab-4.1.toml") }

// Key is the private key that logs in as root on every host.
func (l *Lab) Key() string { return filepath.Join(l.ClientDir(), "id_ed25519") }

// KnownHosts holds the hosts' real host keys.
func (l *Lab) KnownHosts() string { return filepath.Join(l.ClientDir(), "known_hosts") }

// Host returns the named host or fails the test.
func (l *Lab) Host(t testing.TB, name string) Host {
	t.Helper()
	for _, h := range l.Hosts {
		if h.Name == name {
			return h
		}
	}
	t.Fatalf("labtest: no host %q in lab %s", name, l.Name)
	return Host{}
}

// Result is what a command printed and how it ended.
type Result struct {
	Stdout, Stderr string
	Code           int
}

// SSHArgs are the arguments of the real OpenSSH client for a host, with
// strict host-key checking.
func (l *Lab) SSHArgs(addr string, extra ...string) []string {
	common := []string{"-i", l.Key(), "-o", "UserKnownHostsFile=" + l.KnownHosts(),
		"-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes", "-o", "LogLevel=ERROR"}
	args := append(append([]string{}, common...), "-o", "ConnectTimeout=5")
	if l.Bastion != "" {
		// ssh -J would not hand these options to the jump connection.
		proxy := "ssh " + strings.Join(common, " ") + " -W %h:%p root@" + l.Bastion
		args = append(args, "-o", "ProxyCommand="+proxy)
	}
	args = append(args, extra...)
	return append(args, "root@"+addr)
}

// Exec runs a shell command on a host through real ssh and returns its
// result; it fails the test only when ssh itself cannot run.
func (l *Lab) Exec(t testing.TB, host, script string) Result {
	t.Helper()
	h := l.Host(t, host)
	return l.run(t, "ssh", append(l.SSHArgs(h.Addr), script)...)
}

// MustExec is Exec that fails the test when the command exits non-zero.
func (l *Lab) MustExec(t testing.TB, host, script string) string {
	t.Helper()
	r := l.Exec(t, host, script)
	if r.Code != 0 {
		t.Fatalf("%s: %q exited %d\nstdout: %s\nstderr: %s", host, script, r.Code, r.Stdout, r.Stderr)
	}
	return r.Stdout
}

// RunMvorch runs the mvorch binary inside the controller namespace.
func (l *Lab) RunMvorch(t testing.TB, args ...string) Result {
	t.Helper()
	return l.run(t, l.Mvorch, args...)
}

func (l *Lab) run(t testing.TB, name string, args ...string) Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var exitErr *exec.ExitError
	switch {
	case errors.As(err, &exitErr):
		return Result{Stdout: out.String(), Stderr: errb.String(), Code: exitErr.ExitCode()}
	case err != nil:
		t.Fatalf("running %s: %v", name, err)
	}
	return Result{Stdout: out.String(), Stderr: errb.String()}
}

// Script is the path of testbed/lab.
func (l *Lab) Script() string { return filepath.Join(l.Root, "testbed", "lab") }

// Reboot reboots a host with testbed/lab reboot: clean (systemd shuts the
// host down) or, with hard, a power cut. It returns when sshd answers and
// docker is active again, and fails the test otherwise.
func (l *Lab) Reboot(t testing.TB, host string, hard bool) {
	t.Helper()
	args := []string{"reboot", host}
	if hard {
		args = append(args, "--hard")
	}
	cmd := exec.Command(l.Script(), args...)
	cmd.Env = append(os.Environ(), envName+"="+l.Name, envDir+"="+l.Dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("testbed/lab %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}
