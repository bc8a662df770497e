package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// buildMvorch builds the binary the shells call back for completions.
func buildMvorch(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "mvorch")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("building mvorch: %v\n%s", err, out)
	}
	return bin
}

// shell runs script in a shell with mvorch on PATH.
func shell(t *testing.T, bin string, sh ...string) string {
	t.Helper()
	cmd := exec.Command(sh[0], sh[1:]...)
	cmd.Dir = t.TempDir() // an empty directory: no file names among the completions
	cmd.Env = append(os.Environ(), "PATH="+filepath.Dir(bin)+":"+os.Getenv("PATH"), "HOME="+t.TempDir())
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil || stderr.Len() > 0 {
		t.Fatalf("%s: %v\n%s%s", strings.Join(sh, " "), err, out, stderr.String())
	}
	return string(out)
}

// The bash script loads in a real bash, registers a completion for mvorch,
// and completes as mvorch says: `mvorch r<TAB>` gives run and rollback;
// flags, the completion command's shells, and file names (nothing from
// mvorch) after a command.
func TestBashCompletion(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash")
	}
	bin := buildMvorch(t)
	script := filepath.Join(t.TempDir(), "mvorch.bash")
	out, err := exec.Command(bin, "completion", "bash").Output()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(script, out, 0o644); err != nil {
		t.Fatal(err)
	}
	// complete -p names the function; it is called the way readline does,
	// with COMP_WORDS and COMP_CWORD.
	const probe = `source "$1" || exit 1
spec=$(complete -p mvorch) || exit 1
echo "spec: $spec"
fn=$(sed -n 's/.*-F \([^ ]*\).*/\1/p' <<<"$spec")
try() { COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 )); COMPREPLY=(); "$fn"; echo "$*: ${COMPREPLY[*]}"; }
try mvorch r
try mvorch ''
try mvorch graph --f
try mvorch completion ''
try mvorch plan ''
`
	got := shell(t, bin, bash, "--norc", "--noprofile", "-c", probe, "bash", script)
	lines := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(got), "\n") {
		k, v, _ := strings.Cut(l, ": ")
		lines[k] = v
	}
	if !strings.Contains(lines["spec"], "-o default") {
		t.Errorf("complete -p mvorch: %q; want file names as the fallback (-o default)", lines["spec"])
	}
	sorted := func(s string) string { f := strings.Fields(s); sort.Strings(f); return strings.Join(f, " ") }
	for words, want := range map[string]string{
		"mvorch r":           "rollback run",
		"mvorch ":            "completion graph man plan rollback run validate verify",
		"mvorch graph --f":   "--forks --format --from-verify --full",
		"mvorch completion ": "bash fish zsh",
		"mvorch plan ":       "",
	} {
		if got := sorted(lines[words]); got != want {
			t.Errorf("bash: %s<TAB> gives %q, want %q\n%s", words, got, want, got)
		}
	}
}

// zsh and fish: each script passes the shell's own syntax check, and
// where the shell is installed it loads and completes `mvorch r`.
func TestZshAndFishCompletion(t *testing.T) {
	bin := buildMvorch(t)
	dir := t.TempDir()
	for _, sh := range []string{"zsh", "fish"} {
		t.Run(sh, func(t *testing.T) {
			path, err := exec.LookPath(sh)
			if err != nil {
				t.Skipf("%s is not installed (apt-get install %s): its script is not checked", sh, sh)
			}
			out, err := exec.Command(bin, "completion", sh).Output()
			if err != nil {
				t.Fatal(err)
			}
			script := filepath.Join(dir, "mvorch."+sh)
			if err := os.WriteFile(script, out, 0o644); err != nil {
				t.Fatal(err)
			}
			shell(t, bin, path, "-n", script)
			var got string
			if sh == "zsh" {
				got = shell(t, bin, path, "-f", "-c", `autoload -U compinit && compinit -u -d "$HOME/.zcompdump" && source "$1" && print -r -- "$_comps[mvorch]"`, "zsh", script)
				if strings.TrimSpace(got) != "_mvorch" {
					t.Errorf("zsh: mvorch completes with %q, want _mvorch", got)
				}
				return
			}
			got = shell(t, bin, path, "--no-config", "-c", `source $argv[1]; complete -C"mvorch r"`, script)
			var names []string
			for _, l := range strings.Split(strings.TrimSpace(got), "\n") {
				names = append(names, strings.Fields(l + " ")[0])
			}
			sort.Strings(names)
			if strings.Join(names, " ") != "rollback run" {
				t.Errorf("fish: mvorch r<TAB> gives %q, want rollback and run", got)
			}
		})
	}
}

// `mvorch man` is a manual page that names every command; man (or groff)
// formats it without a warning where it is installed.
func TestManPage(t *testing.T) {
	code, page, stderr := runCLI("man")
	if code != 0 {
		t.Fatalf("mvorch man: exit %d\n%s", code, stderr)
	}
	if !strings.HasPrefix(page, ".nh\n.TH mvorch 1") {
		t.Errorf("man page starts %q", page[:min(len(page), 40)])
	}
	for _, cmd := range []string{"plan", "run", "rollback", "verify", "validate", "graph", "completion", "man"} {
		if !regexp.MustCompile(`(?m)^\.SH ` + cmd + `$`).MatchString(page) {
			t.Errorf("the man page has no command %s", cmd)
		}
	}
	groff, err := exec.LookPath("groff")
	if err != nil {
		t.Skip("groff is not installed: the page is not formatted")
	}
	cmd := exec.Command(groff, "-man", "-Tutf8", "-ww")
	cmd.Stdin = strings.NewReader(page)
	var errb bytes.Buffer
	cmd.Stderr = &errb
	out, err := cmd.Output()
	if err != nil || errb.Len() > 0 {
		t.Fatalf("groff -man: %v\n%s", err, errb.String())
	}
	// Without overstrikes (bold) and with justification's spaces as one.
	text := strings.Join(strings.Fields(regexp.MustCompile(`.\x08`).ReplaceAllString(string(out), "")), " ")
	for _, want := range []string{"NAME", "mvorch - build Docker cross-host macvlan networking", "graph", "completion"} {
		if !strings.Contains(text, want) {
			t.Errorf("formatted man page lacks %q", want)
		}
	}
}
