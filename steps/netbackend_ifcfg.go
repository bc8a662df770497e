package steps

import (
	"fmt"
	"path"
	"strings"

	"github.com/mvorch/mvorch/runner/sh"
)

// ifcfgBackend is for hosts whose network is RHEL's network-scripts (ifcfg
// files, network.service). ifcfg has no working promiscuous setting (PROMISC=
// was dropped from initscripts in 2002) and cannot describe a macvlan
// interface at all, so both are systemd units of their own: oneshot
// services that run ip(8) at boot, enabled by a wants symlink as
// `systemctl enable` would make it. systemd's .device units are not used to
// wait for the NIC: inside a container (/sys read-only) systemd has none, so
// the units wait for the interface themselves, briefly.
type ifcfgBackend struct{}

const (
	// UnitDir is where mvorch's own units live.
	UnitDir = "/etc/systemd/system"
	// WantsDir holds the symlinks that enable them.
	WantsDir   = UnitDir + "/multi-user.target.wants"
	unitPrefix = "mvorch-"
	ipCmd      = "/sbin/ip" // /sbin/ip on RHEL 7 and on merged-/usr hosts alike
)

func (ifcfgBackend) Name() string { return "ifcfg" }

// UnitPath is the unit of kind for name: mvorch-promisc-ens33.service,
// mvorch-shim-ens33.10.service.
func UnitPath(kind, name string) string {
	return UnitDir + "/" + unitPrefix + kind + "-" + name + ".service"
}

func (b ifcfgBackend) Promisc(nic string) (Rendered, error) {
	unit := fmt.Sprintf(`%s: promiscuous mode on %s at boot (ifcfg has no setting for it)
[Unit]
Description=mvorch: promiscuous mode on %s
Wants=network-pre.target
After=network-pre.target
Before=network.target network.service docker.service

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStartPre=%s
ExecStart=%s link set dev %s promisc on

[Install]
WantedBy=multi-user.target
`, ManagedHeader, nic, nic, waitForLink(nic), ipCmd, nic)
	return b.unit(UnitPath("promisc", nic), unit, "start"), nil
}

func (b ifcfgBackend) Shim(s Shim) Rendered {
	return shimUnit(s, "ifcfg", "network.service")
}

// shimUnit renders a shim as a unit of its own, for a host whose tool
// (ifcfg, netplan) cannot describe macvlan; after is the service that
// configures the host's other interfaces (the shim's parent among them).
func shimUnit(s Shim, tool, after string) Rendered {
	var lines []string
	add := func(args ...string) {
		lines = append(lines, "ExecStart="+ipCmd+" "+strings.Join(args, " "))
	}
	// A leftover of the same name (a killed run, a hand-made one) would
	// make "link add" fail; "-" lets its removal fail when there is none.
	lines = append(lines, "ExecStart=-"+ipCmd+" link del dev "+s.Name)
	add("link add", s.Name, "link", s.Parent, "type macvlan mode bridge")
	add("addr add", s.Addr.String()+"/32", "dev", s.Name)
	add("link set dev", s.Name, "up")
	for _, r := range s.Routes {
		add("route add", r.String(), "dev", s.Name, "src", s.Addr.String())
	}
	unit := fmt.Sprintf(`%s: %s, macvlan %s on %s (%s cannot describe macvlan)
[Unit]
Description=mvorch: %s (macvlan %s on %s)
Wants=network-pre.target
After=network-pre.target %s
Before=network.target docker.service

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStartPre=%s
%s
ExecStop=-%s link del dev %s

[Install]
WantedBy=multi-user.target
`, ManagedHeader, s.Why, s.Name, s.Parent, tool, s.Why, s.Name, s.Parent, after,
		waitForLink(s.Parent), strings.Join(lines, "\n"), ipCmd, s.Name)
	r := enabledUnit(UnitPath(s.kind(), s.Parent), unit, "restart", WantsDir)
	r.Stop = append(r.Stop, sh.New("ip", "link", "del", "dev", s.Name).Raw("2>/dev/null || true"))
	return r
}

// unit renders one unit enabled for multi-user.target.
func (ifcfgBackend) unit(file, text, start string) Rendered {
	return enabledUnit(file, text, start, WantsDir)
}

// enabledUnit renders one unit enabled by a symlink in wantsDir; start is
// how it is brought about now ("start", or "restart" where a changed unit
// must run again).
func enabledUnit(file, text, start, wantsDir string) Rendered {
	name := path.Base(file)
	return Rendered{
		Files:  []RenderedFile{{Path: file, Data: []byte(text), Mode: 0o644}},
		Enable: []Symlink{{Path: wantsDir + "/" + name, Target: file}},
		Reload: []sh.Command{sh.New("systemctl", "daemon-reload")},
		Start:  []sh.Command{sh.New("systemctl", start, name)},
		Stop:   []sh.Command{sh.New("systemctl", "stop", name).Raw("2>/dev/null || true")},
	}
}

// waitForLink is an ExecStartPre= that waits up to 10 s for an interface
// (a NIC udev has not renamed yet, a VLAN network.service has not made yet).
func waitForLink(name string) string {
	script := "i=0; while [ ! -e /sys/class/net/" + sh.Quote(name) + " ]; do [ $i -ge 100 ] && exit 1; i=$((i+1)); sleep 0.1; done"
	return "/bin/sh -c " + sh.SystemdEscapeArg(script)
}

// Found reads mvorch's units of kind back from the facts.
func (b ifcfgBackend) Found(f *Facts, kind string) map[string]Rendered { return foundUnits(f, kind) }

// foundUnits reads mvorch's units of kind back from the facts.
func foundUnits(f *Facts, kind string) map[string]Rendered {
	out := map[string]Rendered{}
	prefix := UnitDir + "/" + unitPrefix + kind + "-"
	for p, file := range f.Files {
		name, ok := strings.CutPrefix(p, prefix)
		if !ok || !strings.HasSuffix(name, ".service") || !isManaged(file.Data) {
			continue
		}
		name = strings.TrimSuffix(name, ".service")
		// A shim's unit (host access or router) says which interface it makes.
		shim := shimNameIn(file.Data)
		start := "start"
		if shim != "" {
			start = "restart"
		}
		r := enabledUnit(p, string(file.Data), start, WantsDir)
		if shim != "" {
			r.Stop = append(r.Stop, sh.New("ip", "link", "del", "dev", shim).Raw("2>/dev/null || true"))
		}
		out[name] = r
	}
	return out
}

// shimNameIn finds the interface a shim unit makes, from its ExecStop.
func shimNameIn(unit []byte) string {
	for _, l := range strings.Split(string(unit), "\n") {
		if rest, ok := strings.CutPrefix(l, "ExecStop=-"+ipCmd+" link del dev "); ok {
			return strings.TrimSpace(rest)
		}
	}
	return ""
}

// unitFactGlobs are the files and symlinks the facts must read for this
// backend: every unit mvorch may have written, and what enables them.
var unitFactGlobs = []string{UnitDir + "/" + unitPrefix + "*.service"}
