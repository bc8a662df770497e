package steps

import (
	"bytes"
	"fmt"
	"sort"
	"strings"

	"github.com/mvorch/mvorch/runner/sh"
)

// VLANIfcfg writes the RHEL network-scripts file of each VLAN sub-interface
// and brings it up (article 4.2, steps 2 and 3: ifcfg-ens33.10, ifup). On
// hosts of another network backend (NetworkManager keyfiles, netplan) the
// same step writes that backend's file and activates it with the host's own
// tool; its name stays, as plans and journals know it.
type VLANIfcfg struct{}

func (VLANIfcfg) Name() string  { return "vlan-ifcfg" }
func (VLANIfcfg) Title() string { return "VLAN sub-interfaces (ifcfg files, ifup)" }

func (s VLANIfcfg) Plan(c *Context) ([]*Change, error) {
	b, err := c.backend()
	if err != nil && hostHasVLAN(c) {
		return nil, err
	}
	if vr, ok := b.(VLANRenderer); ok {
		return s.planRendered(c, b, vr)
	}
	var out []*Change
	want := map[string]bool{}
	for _, v := range hostVLANs(c) {
		want[v.Name] = true
		ch, err := s.planVLAN(c, v.ID, v.Gateway.String(), v.Name, v.Addr.String())
		if err != nil {
			return nil, err
		}
		if ch != nil {
			out = append(out, ch)
		}
	}
	return append(out, s.removeStale(c, want)...), nil
}

// planRendered plans the VLANs of a backend that renders them itself. Whether
// a VLAN is up is judged from the kernel (the link, up, with its address),
// as for ifcfg, never from the tool's own state.
func (s VLANIfcfg) planRendered(c *Context, b NetBackend, vr VLANRenderer) ([]*Change, error) {
	found := b.Found(c.Facts, "vlan")
	var out []*Change
	for _, v := range hostVLANs(c) {
		iface, addr := v.Name, v.Addr
		r, err := vr.VLAN(v)
		if err != nil {
			return nil, err
		}
		delete(found, iface)
		link := c.Facts.Links[iface]
		old := c.Facts.Files[r.Files[0].Path]
		conflict := ""
		if link != nil && !c.madeUnit(r) {
			conflict = fmt.Sprintf("interface %s exists on %s but mvorch did not make it", iface, c.Host.Name)
		} else if old != nil && !isManaged(old.Data) {
			conflict = fmt.Sprintf("%s exists on %s and was not written by mvorch", r.Files[0].Path, c.Host.Name)
		}
		running := link != nil && link.Up && containsStr(link.Addrs, addr.String())
		ch := c.planPersisted(s, r.Files[0].Path, r, running, true)
		if ch != nil && conflict != "" {
			ch.Action = ActionReplace
			ch.Conflict = conflict
		}
		if ch != nil {
			out = append(out, ch)
		}
		// What the run makes, for the later steps; an interface that is up
		// with its address keeps its real facts (in the lab a VLAN is a
		// macvlan stand-in, and a shim on it hangs off the NIC: onParent).
		if !running {
			c.Facts.Links[iface] = &Link{Name: iface, Up: true, Kind: "vlan", Parent: c.Host.Parent, Addrs: []string{addr.String()}}
		}
	}
	for _, iface := range sortedKeys(found) {
		r := found[iface]
		out = append(out, c.removePersisted(s, r.Files[0].Path, r))
		delete(c.Facts.Links, iface)
	}
	return out, nil
}

// Ifcfg is the file the article writes for one VLAN sub-interface.
func Ifcfg(iface string, vlanID int, parent, addr string, gateway string) []byte {
	ip, prefix, _ := strings.Cut(addr, "/")
	return []byte(fmt.Sprintf("%s: VLAN %d on %s\nBOOTPROTO=none\nNAME=%s\nDEVICE=%s\nONBOOT=yes\nIPADDR=%s\nPREFIX=%s\nGATEWAY=%s\nVLAN=yes\n",
		ManagedHeader, vlanID, parent, iface, iface, ip, prefix, gateway))
}

// hostVLANs are the VLAN sub-interfaces the inventory gives the context's
// host, in inventory order.
func hostVLANs(c *Context) []VLANIface {
	var out []VLANIface
	for _, v := range c.Inv.VLANs {
		if addr, ok := v.Addr(c.Host.Name); ok {
			out = append(out, VLANIface{Name: c.Inv.Interface(c.Host, v.ID), ID: v.ID, Parent: c.Host.Parent, Addr: addr, Gateway: v.Gateway})
		}
	}
	return out
}

func (s VLANIfcfg) planVLAN(c *Context, id int, gateway, iface, addr string) (*Change, error) {
	path := ifcfgPath(iface)
	old := c.Facts.Files[path]
	link := c.Facts.Links[iface]
	conflict := ""
	if link != nil && (old == nil || !isManaged(old.Data)) {
		conflict = fmt.Sprintf("interface %s exists on %s but mvorch did not make it", iface, c.Host.Name)
	} else if old != nil && !isManaged(old.Data) {
		conflict = fmt.Sprintf("%s exists on %s and was not written by mvorch", path, c.Host.Name)
	}
	ch := c.writeFile(s, path, Ifcfg(iface, id, c.Host.Parent, addr, gateway), 0o644)
	up := link != nil && link.Up && containsStr(link.Addrs, addr)
	ifup := exec(sh.New("ifup", "ifcfg-"+iface))
	ifdown := exec(sh.New("ifdown", "ifcfg-"+iface).Raw("|| true"))
	switch {
	case ch == nil && up:
		return nil, nil
	case ch == nil:
		ch = c.newChange(s, ActionChange, iface)
		ch.Detail = "ifup " + iface + " (interface missing, down or without " + addr + ")"
		ch.Do = []Op{ifup}
		ch.Undo = []Op{ifdown}
	default:
		ch.Detail = "then ifup " + iface
		if link != nil {
			ch.Do = append(ch.Do, ifdown)
		}
		ch.Do = append(ch.Do, ifup)
		undo := []Op{ifdown}
		undo = append(undo, ch.Undo...)
		if link != nil && link.Up {
			undo = append(undo, ifup)
		}
		ch.Undo = undo
	}
	if conflict != "" {
		ch.Action = ActionReplace
		ch.Conflict = conflict
	}
	c.Facts.Links[iface] = &Link{Name: iface, Up: true, Kind: "vlan", Parent: c.Host.Parent, Addrs: []string{addr}}
	return ch, nil
}

// removeStale plans the removal of ifcfg files mvorch wrote for VLANs the
// inventory no longer gives this host.
func (s VLANIfcfg) removeStale(c *Context, want map[string]bool) []*Change {
	prefix := NetworkScripts + "/ifcfg-" + c.Host.Parent + "."
	var paths []string
	for p, f := range c.Facts.Files {
		if strings.HasPrefix(p, prefix) && isManaged(f.Data) && !want[strings.TrimPrefix(p, NetworkScripts+"/ifcfg-")] {
			paths = append(paths, p)
		}
	}
	sort.Strings(paths)
	var out []*Change
	for _, p := range paths {
		iface := strings.TrimPrefix(p, NetworkScripts+"/ifcfg-")
		ch := c.removeFile(s, p)
		ch.Detail = "after ifdown " + iface
		ch.Do = append([]Op{exec(sh.New("ifdown", "ifcfg-"+iface).Raw("|| true"))}, ch.Do...)
		ch.Undo = append(ch.Undo, exec(sh.New("ifup", "ifcfg-"+iface)))
		delete(c.Facts.Links, iface)
		out = append(out, ch)
	}
	return out
}

func isManaged(data []byte) bool { return bytes.HasPrefix(data, []byte(ManagedHeader)) }

func containsStr(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}
