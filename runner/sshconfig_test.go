package runner

import (
	"io"
	"strings"
	"testing"

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
