package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func runCLI(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = run(append([]string{"mvorch"}, args...), strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

// validate catches both of the article's own mistakes, with file:line,
// key and value, and exits 1 without touching any host.
func TestValidateArticleMistakes(t *testing.T) {
	path := "../../inventory/testdata/article-4.2-as-written.toml"
	code, _, stderr := runCLI("validate", path)
	if code != 1 {
		t.Fatalf("validate exit %d, want 1\n%s", code, stderr)
	}
	for _, want := range []string{
		`:[0-9]+: container\[3\]\.ip = "172\.16\.10\.10": already used by bbox10 on docker01`,
		`:[0-9]+: container\[[0-9]\]\.image = "192\.168\.1\.11/busybox:v1": names the registry 192\.168\.1\.11 \(docker01\) without its port 5000`,
	} {
		if !regexp.MustCompile(regexp.QuoteMeta(path) + want).MatchString(stderr) {
			t.Errorf("validate output lacks %s:\n%s", want, stderr)
		}
	}
}

func TestValidateExamples(t *testing.T) {
	for _, path := range []string{"../../inventory.toml.example", "../../examples/section-4.1.toml"} {
		code, stdout, stderr := runCLI("validate", path)
		if code != 0 || !strings.Contains(stdout, "valid") {
			t.Errorf("validate %s: exit %d\n%s%s", path, code, stdout, stderr)
		}
	}
}

// Usage errors name what is wrong and exit 1; --version and --help work.
func TestCommandLineErrors(t *testing.T) {
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"plan"}, 1, "plan needs exactly one argument, the inventory file"},
		{[]string{"run", "a.toml", "b.toml"}, 1, "run needs exactly one argument"},
		{[]string{"plan", "--output", "yaml", "x.toml"}, 1, `--output "yaml": use text or json`},
		{[]string{"run", "--detailed-exitcode", "x.toml"}, 1, "--detailed-exitcode goes with --dry-run"},
		{[]string{"plan", "/nonexistent/inv.toml"}, 1, "/nonexistent/inv.toml"},
		{[]string{"validate"}, 1, "validate needs exactly one argument"},
	}
	for _, c := range cases {
		code, _, stderr := runCLI(c.args...)
		if code != c.code || !strings.Contains(stderr, c.want) {
			t.Errorf("mvorch %v: exit %d, stderr %q; want exit %d and %q", c.args, code, stderr, c.code, c.want)
		}
	}
	if code, out, _ := runCLI("--version"); code != 0 || !strings.Contains(out, "mvorch version") {
		t.Errorf("--version: %d %q", code, out)
	}
	// -v before the command is verbose, as after it, not the version: a
	// "mvorch -v plan" that printed the version and did nothing would look
	// like success. (A missing inventory shows the command ran.)
	if code, out, stderr := runCLI("-v", "plan", "/nonexistent/inv.toml"); code != 1 || strings.Contains(out, "version") || !strings.Contains(stderr, "/nonexistent/inv.toml") {
		t.Errorf("mvorch -v plan: exit %d, stdout %q, stderr %q", code, out, stderr)
	}
	code, out, _ := runCLI("--help")
	for _, cmd := range []string{"plan", "run", "rollback", "verify", "validate", "Exit codes"} {
		if code != 0 || !strings.Contains(out, cmd) {
			t.Errorf("--help lacks %q", cmd)
		}
	}
}

// Two networks without vlan both hang off the NIC itself: docker before 26
// creates only the first, so validate stops the inventory, says what to do,
// and lets it through when the hosts are said to run docker 26 or newer.
func TestValidateTwoNetworksOnOneParent(t *testing.T) {
	data, err := os.ReadFile("../../examples/section-4.1.toml")
	if err != nil {
		t.Fatal(err)
	}
	inv := filepath.Join(t.TempDir(), "two.toml")
	extra := "\n[[network]]\nname = \"mac_net2\"\nsubnet = \"172.22.17.0/24\"\ngateway = \"172.22.17.1\"\n"
	if err := os.WriteFile(inv, append(data, extra...), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runCLI("validate", inv)
	want := "networks mac_net1 and mac_net2 share parent interface ens33 on docker01: docker before 26 allows one macvlan network per parent; give each network a vlan of its own, or run docker 26 or newer"
	if code != 1 || !strings.Contains(stderr, want) || !strings.Contains(stderr, "on docker02") {
		t.Errorf("validate: exit %d, stderr:\n%s\nwant exit 1 and, for both hosts, %q", code, stderr, want)
	}
	if code, stdout, stderr := runCLI("validate", "--docker-version", "26", inv); code != 0 || !strings.Contains(stdout, "valid") {
		t.Errorf("validate --docker-version 26: exit %d\n%s%s", code, stdout, stderr)
	}
}
