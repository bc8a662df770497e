package inventory

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// FuzzLoad feeds arbitrary bytes to Parse. It must never panic or hang,
// and whatever it accepts must hold to what the rest of mvorch relies on
// when it puts inventory values into remote commands, file names and unit
// files without checking them again (see checkInvariants).
//
// The seeds are every file under testdata/ and testdata/invalid/, the
// shipped example inventories, and whatever testdata/fuzz/FuzzLoad holds, so
// that `go test ./inventory/` runs them all. To fuzz:
//
//	go test -run XXX -fuzz=FuzzLoad -fuzztime=3m ./inventory/
func FuzzLoad(f *testing.F) {
	var seeds []string
	for _, pattern := range []string{"testdata/*", "testdata/invalid/*", "../inventory.toml.example", "../examples/*.toml"} {
		paths, err := filepath.Glob(pattern)
		if err != nil {
			f.Fatal(err)
		}
		seeds = append(seeds, paths...)
	}
	n := 0
	for _, path := range seeds {
		if fi, err := os.Stat(path); err != nil || !fi.Mode().IsRegular() {
			continue
		}
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
		n++
	}
	if n < 40 {
		f.Fatalf("only %d seed files found; run from the inventory package directory", n)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<16 {
			t.Skip("larger than any inventory")
		}
		type result struct {
			inv *Inventory
			err error
		}
		done := make(chan result, 1)
		go func() {
			inv, err := Parse("fuzz.toml", data)
			done <- result{inv, err}
		}()
		var r result
		select {
		case r = <-done:
		case <-time.After(5 * time.Second):
			t.Fatalf("Parse did not return within 5s on %q", data)
		}
		if r.err != nil {
			if r.inv != nil {
				t.Errorf("Parse returned an inventory along with %v", r.err)
			}
			var ps Problems
			if errors.As(r.err, &ps) && len(ps) == 0 {
				t.Error("Parse returned empty Problems")
			}
			return
		}
		if r.inv == nil {
			t.Fatal("Parse returned neither inventory nor error")
		}
		for _, msg := range checkInvariants(r.inv) {
			t.Errorf("accepted %q, but %s", data, msg)
		}
	})
}

// forbidden is what no name, image or address may hold, written out here
// on its own rather than taken from the checks under test.
const forbidden = " \t\r\n\v\f\"'`;|&$\\<>(){}*?!#[]"

// safeWord reports why s cannot go into a command line unquoted, or "".
func unsafeWord(s string) string {
	switch {
	case s == "":
		return "is empty"
	case strings.HasPrefix(s, "-"):
		return "starts with '-'"
	}
	for _, r := range s {
		if r < 0x20 || r >= 0x7f || strings.ContainsRune(forbidden, r) {
			return fmt.Sprintf("holds %q", r)
		}
	}
	return ""
}

// unsafePath is unsafeWord for the local paths of [ssh], which may hold
// spaces and any letters.
func unsafePath(s string) string {
	if s == "" {
		return ""
	}
	if strings.HasPrefix(s, "-") {
		return "starts with '-'"
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f || strings.ContainsRune("\"'`;|&$\\<>", r) {
			return fmt.Sprintf("holds %q", r)
		}
	}
	return ""
}

// checkInvariants lists what is wrong with an inventory Parse accepted.
func checkInvariants(inv *Inventory) []string {
	var bad []string
	word := func(what, s string) {
		if msg := unsafeWord(s); msg != "" {
			bad = append(bad, fmt.Sprintf("%s %q %s", what, s, msg))
		}
	}
	optWord := func(what, s string) {
		if s != "" {
			word(what, s)
		}
	}
	path := func(what, s string) {
		if msg := unsafePath(s); msg != "" {
			bad = append(bad, fmt.Sprintf("%s %q %s", what, s, msg))
		}
	}
	ssh := func(what string, s SSH) {
		optWord(what+" user", s.User)
		optWord(what+" jump", s.Jump)
		path(what+" identity_file", s.IdentityFile)
		path(what+" known_hosts", s.KnownHosts)
		if s.Port < 0 || s.Port > 65535 {
			bad = append(bad, fmt.Sprintf("%s port %d", what, s.Port))
		}
	}
	ssh("[ssh]", inv.SSH)
	if len(inv.Hosts) == 0 {
		bad = append(bad, "no hosts")
	}
	for i := range inv.Hosts {
		h := &inv.Hosts[i]
		if !hostNameRe.MatchString(h.Name) {
			bad = append(bad, fmt.Sprintf("host name %q does not match %s", h.Name, hostNameRe))
		}
		word("host name", h.Name)
		word("host address", h.Address)
		word("parent", h.Parent)
		if len(h.Parent) > maxIfName {
			bad = append(bad, fmt.Sprintf("parent %q is over %d characters", h.Parent, maxIfName))
		}
		ssh("host "+h.Name, inv.HostSSH(h))
	}
	for _, v := range inv.VLANs {
		if v.ID < 1 || v.ID > 4094 {
			bad = append(bad, fmt.Sprintf("VLAN id %d", v.ID))
		}
		if !v.Gateway.Is4() {
			bad = append(bad, fmt.Sprintf("VLAN %d gateway %v", v.ID, v.Gateway))
		}
		for _, vh := range v.Hosts {
			h, ok := inv.Host(vh.Host)
			if !ok {
				bad = append(bad, fmt.Sprintf("VLAN %d names no host %q", v.ID, vh.Host))
				continue
			}
			if name := inv.Interface(h, v.ID); len(name) > maxIfName {
				bad = append(bad, fmt.Sprintf("interface %q is over %d characters", name, maxIfName))
			}
			if !vh.Addr.Addr().Is4() || !vh.Addr.Contains(v.Gateway) {
				bad = append(bad, fmt.Sprintf("VLAN %d address %v of %s", v.ID, vh.Addr, vh.Host))
			}
		}
	}
	if r := inv.Registry; r != nil {
		if _, ok := inv.Host(r.Host); !ok {
			bad = append(bad, fmt.Sprintf("registry host %q is no host", r.Host))
		}
		word("registry image", r.Image)
		word("registry name", r.Name)
		word("registry trust", r.Trust)
		word("registry address", inv.RegistryAddr())
	}
	for _, img := range inv.Images {
		word("image source", img.Source)
		word("image tag", img.Tag)
	}
	for i := range inv.Networks {
		n := &inv.Networks[i]
		word("network name", n.Name)
		if !n.Subnet.Addr().Is4() || n.Subnet != n.Subnet.Masked() || !n.Subnet.Contains(n.Gateway) {
			bad = append(bad, fmt.Sprintf("network %s subnet %v gateway %v", n.Name, n.Subnet, n.Gateway))
		}
		for _, host := range inv.NetworkHosts(n) {
			h, _ := inv.Host(host)
			if p := inv.NetworkParent(n, h); len(p) > maxIfName {
				bad = append(bad, fmt.Sprintf("network %s parent %q on %s is over %d characters", n.Name, p, host, maxIfName))
			}
		}
	}
	for _, c := range inv.Containers {
		word("container name", c.Name)
		word("container image", c.Image)
		word("container image reference", inv.ImageRef(c.Image))
		word("container restart", c.Restart)
		bad = append(bad, containerKeyInvariants(c)...)
		if _, ok := inv.Host(c.Host); !ok {
			bad = append(bad, fmt.Sprintf("container %s on no host %q", c.Name, c.Host))
		}
		n, ok := inv.Network(c.Network)
		if !ok {
			bad = append(bad, fmt.Sprintf("container %s on no network %q", c.Name, c.Network))
			continue
		}
		if !n.Subnet.Contains(c.IP) {
			bad = append(bad, fmt.Sprintf("container %s address %v is outside %s's subnet %v", c.Name, c.IP, n.Name, n.Subnet))
		}
		if c.IP == n.Gateway || c.IP == n.Subnet.Masked().Addr() || c.IP == broadcast(n.Subnet) {
			bad = append(bad, fmt.Sprintf("container %s address %v is reserved in %v", c.Name, c.IP, n.Subnet))
		}
	}
	for _, h := range inv.Hosts {
		for _, ref := range inv.ImagesUsedOn(h.Name) {
			word("image used on "+h.Name, ref)
		}
	}
	return bad
}

// The invariants themselves must catch what they are for.
func TestInvariantsCatch(t *testing.T) {
	inv, err := Load("testdata/base.toml")
	if err != nil {
		t.Fatal(err)
	}
	inv.Hosts[0].Name = "docker01;id"
	inv.Hosts[1].Parent = "enp0s31f6abcde" // enp0s31f6abcde.10 is 17 characters
	inv.Containers[0].IP = inv.Networks[1].Gateway
	inv.Containers[1].Image = "-busybox"
	inv.Containers[1].Env = map[string]string{"A": "x\x00"}
	got := strings.Join(checkInvariants(inv), "\n")
	for _, want := range []string{`host name "docker01;id" does not match`, `interface "enp0s31f6abcde.10" is over 15`, `container bbox10 address 172.22.16.1 is outside`, `container image "-busybox" starts with '-'`, `holds a NUL byte: "x\x00"`} {
		if !strings.Contains(got, want) {
			t.Errorf("invariants missed %s; they said:\n%s", want, got)
		}
	}
}

// containerKeyInvariants: the optional keys of an accepted container hold
// what docker run is given as is: no NUL byte (a shell command cannot carry
// it), names and addresses of their patterns, one program as entrypoint.
func containerKeyInvariants(c Container) []string {
	var bad []string
	text := slices.Concat(c.Command, c.Entrypoint, c.Volumes)
	for k, v := range c.Env {
		if !envNameRe.MatchString(k) {
			bad = append(bad, fmt.Sprintf("container %s env name %q", c.Name, k))
		}
		text = append(text, v)
	}
	for k, v := range c.Labels {
		if checkLabelKey(k) != "" {
			bad = append(bad, fmt.Sprintf("container %s label key %q", c.Name, k))
		}
		text = append(text, v)
	}
	for _, s := range text {
		if strings.IndexByte(s, 0) >= 0 {
			bad = append(bad, fmt.Sprintf("container %s holds a NUL byte: %q", c.Name, s))
		}
	}
	if len(c.Entrypoint) > 1 || c.Command != nil && len(c.Command) == 0 {
		bad = append(bad, fmt.Sprintf("container %s entrypoint %q command %q", c.Name, c.Entrypoint, c.Command))
	}
	if c.MACAddress != "" && (checkMAC(c.MACAddress) != "" || c.MACAddress != strings.ToLower(c.MACAddress)) {
		bad = append(bad, fmt.Sprintf("container %s MAC %q", c.Name, c.MACAddress))
	}
	for _, w := range slices.Concat(c.CapAdd, c.DNS, []string{c.Hostname}) {
		if w != "" && unsafeText(w) != "" {
			bad = append(bad, fmt.Sprintf("container %s value %q is not a plain word", c.Name, w))
		}
	}
	for _, v := range c.Volumes {
		if checkVolume(v) != "" {
			bad = append(bad, fmt.Sprintf("container %s volume %q", c.Name, v))
		}
	}
	return bad
}
