package steps

import (
	"fmt"

	"github.com/mvorch/mvorch/runner/sh"
)

// Module8021q loads the 802.1Q module and persists it in modules-load.d
// (article 4.2, step 1: modinfo 8021q, modprobe 8021q).
type Module8021q struct{}

func (Module8021q) Name() string  { return "8021q" }
func (Module8021q) Title() string { return "802.1Q kernel module" }

func (s Module8021q) Plan(c *Context) ([]*Change, error) {
	if !hostHasVLAN(c) {
		return nil, nil
	}
	if !c.Facts.Mod8021qLoaded && !c.Facts.Mod8021qAvail {
		return nil, fmt.Errorf("8021q is not available on %s (modinfo 8021q fails): the kernel cannot make VLAN sub-interfaces; install the module (kernel-modules package) or leave vlan out of the networks", c.Host.Name)
	}
	var load *Change
	if !c.Facts.Mod8021qLoaded {
		load = c.newChange(s, ActionAdd, "module 8021q")
		load.Detail = "modprobe 8021q"
		load.Do = []Op{exec(sh.New("modprobe", "8021q"))}
		// Unloading fails while a VLAN interface uses it; rollback removes those first.
		load.Undo = []Op{exec(sh.New("modprobe", "-r", "8021q").Raw("2>/dev/null || true"))}
		c.Facts.Mod8021qLoaded = true
	}
	persist := c.writeFile(s, ModulesLoad, []byte(ManagedHeader+": load 802.1Q at boot for VLAN sub-interfaces\n8021q\n"), 0o644)
	return nonNil(load, persist), nil
}

func hostHasVLAN(c *Context) bool {
	for _, v := range c.Inv.VLANs {
		if _, ok := v.Addr(c.Host.Name); ok {
			return true
		}
	}
	return false
}
