package runner

import (
	"io"
	"strings"
	"testing"
	"time"

	"github.com/mvorch/mvorch/runner/sshconfig"
	"github.com/mvorch/mvorch/runner/transport"
)

// mvorch resolves ssh_config with its built-in reader, always: with no ssh
// client on PATH a Match block still applies, and the inventory's user is
// what Match user sees (as with ssh -l).
func TestApplySSHConfigUsesBuiltInReader(t *testing.T) {
	t.Setenv("PATH", "")
	t.Setenv("SHELL", "/bin/sh")
	config := "Match user ops\n  Port 2200\n" +
		"Match originalhost web exec \"test %r = ops\"\n  HostName web.internal\n  User ignored\n  ProxyJump bastion\n"
	c, err := sshconfig.Parse(strings.NewReader(config), "cfg", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	r := &Runner{sshcfg: c, opts: Options{Warn: io.Discard}}
	cfg := transport.Config{Address: "web", User: "ops"}
	jump, err := r.applySSHConfig(&cfg, "web", "")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Address != "web.internal" || cfg.Port != 2200 || cfg.User != "ops" || jump != "bastion" {
		t.Errorf("applied: address %q port %d user %q jump %q; want web.internal 2200 ops bastion", cfg.Address, cfg.Port, cfg.User, jump)
	}
}

// ssh_config's ConnectTimeout applies when --connect-timeout was not given
// (Options.ConnectTimeout 0), and the flag wins when it was; IdentitiesOnly
// reaches the transport.
func TestApplySSHConfigTimeoutAndIdentitiesOnly(t *testing.T) {
	c, err := sshconfig.Parse(strings.NewReader("Host slow\n  ConnectTimeout 42\n  IdentitiesOnly yes\nHost zero\n  ConnectTimeout 0\n"), "cfg", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	r := &Runner{sshcfg: c, opts: Options{Warn: io.Discard}}
	for _, tc := range []struct {
		alias   string
		flag    time.Duration
		want    time.Duration
		idsOnly bool
	}{
		{"slow", 0, 42 * time.Second, true},
		{"slow", 3 * time.Second, 3 * time.Second, true},
		{"zero", 0, 0, false}, // the transport's default then
		{"other", 0, 0, false},
	} {
		cfg := transport.Config{Address: tc.alias, ConnectTimeout: tc.flag}
		if _, err := r.applySSHConfig(&cfg, tc.alias, ""); err != nil {
			t.Fatal(err)
		}
		if cfg.ConnectTimeout != tc.want || cfg.IdentitiesOnly != tc.idsOnly {
			t.Errorf("%s with flag %v: timeout %v, IdentitiesOnly %v; want %v, %v", tc.alias, tc.flag, cfg.ConnectTimeout, cfg.IdentitiesOnly, tc.want, tc.idsOnly)
		}
	}
}
