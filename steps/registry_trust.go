package steps

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// RegistryTrust makes docker on every host trust the private registry over
// plain HTTP (article 4.2, step 5: --insecure-registry ADDR in ExecStart).
// Three methods: a systemd drop-in (default), the unit file edited in place
// as the article does, or daemon.json. Switching methods removes what mvorch
// made for the old one.
type RegistryTrust struct{}

func (RegistryTrust) Name() string  { return "registry-trust" }
func (RegistryTrust) Title() string { return "Trust the private registry (docker configuration)" }

// Trust methods.
const (
	TrustDropIn     = "dropin"
	TrustUnit       = "unit"
	TrustDaemonJSON = "daemon-json"
)

func (s RegistryTrust) Plan(c *Context) ([]*Change, error) {
	if c.dockerUnused() {
		return nil, nil
	}
	if !c.Facts.Docker.Installed {
		return nil, fmt.Errorf("docker is not installed on %s: install docker (docker-ce or docker.io) first", c.Host.Name)
	}
	// Without a running docker the networks, containers and images cannot
	// be seen, so nothing after this step could be planned truthfully.
	if !c.Facts.Docker.Active {
		return nil, fmt.Errorf("docker is not running on %s: start it (systemctl start docker) and check it with docker info", c.Host.Name)
	}
	method, addr := "", ""
	if c.Inv.Registry != nil {
		method, addr = c.Inv.Registry.Trust, c.Inv.RegistryAddr()
	}
	mine := c.Facts.managedPaths()
	execBefore := unitExecStart(c.Facts.Files, "")
	var out []*Change
	add := func(ch *Change, err error) error {
		if ch != nil {
			out = append(out, ch)
		}
		return err
	}
	// The other methods' leftovers go first, then the chosen one is set;
	// daemon.json, which may hold both, is edited once.
	for _, m := range []string{TrustDropIn, TrustUnit} {
		if m != method {
			if err := add(s.untrust(c, m, mine)); err != nil {
				return nil, err
			}
		}
	}
	if method != TrustDaemonJSON && addr != "" && !s.trustedElsewhere(c, method, addr) {
		if err := add(s.trust(c, method, addr)); err != nil {
			return nil, err
		}
	}
	if err := add(s.daemonJSON(c, method, addr, mine)); err != nil {
		return nil, err
	}
	if err := flagJSONConflict(c); err != nil {
		return nil, err
	}
	cfg := &c.Facts.DockerConfig
	for _, ch := range out {
		ch.Registry = addr
		if ch.Target == DaemonJSON {
			cfg.JSON = true
		} else {
			cfg.Units = true
		}
	}
	cfg.Flags = cfg.Flags || unitExecStart(c.Facts.Files, "") != execBefore
	return out, nil
}

// trustedElsewhere: a registry already trusted by something mvorch did not
// make is left alone rather than configured twice.
func (s RegistryTrust) trustedElsewhere(c *Context, method, addr string) bool {
	files := c.Facts.Files
	if method != TrustDropIn && method != TrustUnit && trustsFlag(unitExecStart(files, DropInFile), addr) {
		return true
	}
	if method != TrustDaemonJSON {
		if list, _ := daemonJSONRegistries(files[DaemonJSON]); containsStr(list, addr) {
			return !c.Facts.managedPaths()[DaemonJSON]
		}
	}
	return false
}

func (s RegistryTrust) trust(c *Context, method, addr string) (*Change, error) {
	switch method {
	case TrustDropIn:
		base := unitExecStart(c.Facts.Files, DropInFile)
		if base == "" {
			return nil, fmt.Errorf("no ExecStart for docker.service on %s (looked in %s, %s and %s): is docker installed as a systemd service?", c.Host.Name, UnitFile, EtcUnitFile, DropInDir)
		}
		if trustsFlag(base, addr) {
			return c.removeFile(s, DropInFile), nil
		}
		data := fmt.Sprintf("%s: trust the private registry %s (trust = \"dropin\")\n[Service]\nExecStart=\nExecStart=%s --insecure-registry %s\n",
			ManagedHeader, addr, withoutFlag(base, addr), addr)
		return c.writeFile(s, DropInFile, []byte(data), 0o644), nil
	case TrustUnit:
		path := c.unitPath()
		f := c.Facts.Files[path]
		if f == nil {
			return nil, fmt.Errorf("%s not found on %s: trust = \"unit\" edits it in place", path, c.Host.Name)
		}
		if trustsFlag(lastExecStart(string(f.Data), ""), addr) {
			return nil, nil
		}
		data, ok := editExecStart(f.Data, func(exec string) string {
			bin, rest, _ := strings.Cut(exec, " ")
			return strings.TrimSpace(bin + " --insecure-registry " + addr + " " + rest)
		})
		if !ok {
			return nil, fmt.Errorf("%s on %s has no ExecStart line to edit", path, c.Host.Name)
		}
		return c.writeFile(s, path, data, f.Mode), nil
	}
	return nil, fmt.Errorf("unknown trust method %q", method)
}

// untrust removes what mvorch made for a method it no longer uses.
func (s RegistryTrust) untrust(c *Context, method string, mine map[string]bool) (*Change, error) {
	switch method {
	case TrustDropIn:
		if f := c.Facts.Files[DropInFile]; f != nil && isManaged(f.Data) {
			return c.removeFile(s, DropInFile), nil
		}
	case TrustUnit:
		path := c.unitPath()
		f := c.Facts.Files[path]
		if f == nil || !mine[path] {
			return nil, nil
		}
		data, _ := editExecStart(f.Data, func(exec string) string { return c.withoutMvorchFlags(exec) })
		return c.writeFile(s, path, data, f.Mode), nil
	}
	return nil, nil
}

func (c *Context) unitPath() string {
	if c.Facts.Files[EtcUnitFile] != nil {
		return EtcUnitFile
	}
	return UnitFile
}

// registryAddrs are the registry addresses mvorch may have trusted: the
// current one and any in its journal.
func (c *Context) registryAddrs() map[string]bool {
	addrs := c.Facts.journalRegistries()
	if a := c.Inv.RegistryAddr(); a != "" {
		addrs[a] = true
	}
	return addrs
}

func (c *Context) withoutMvorchFlags(exec string) string {
	for a := range c.registryAddrs() {
		exec = withoutFlag(exec, a)
	}
	return exec
}

func withoutFlag(exec, addr string) string {
	f := strings.Fields(exec)
	var out []string
	for i := 0; i < len(f); i++ {
		if f[i] == "--insecure-registry="+addr {
			continue
		}
		if f[i] == "--insecure-registry" && i+1 < len(f) && f[i+1] == addr {
			i++
			continue
		}
		out = append(out, f[i])
	}
	return strings.Join(out, " ")
}

// editExecStart rewrites the last ExecStart line of a unit file.
func editExecStart(data []byte, edit func(string) string) ([]byte, bool) {
	lines := strings.Split(string(data), "\n")
	idx := -1
	for i, l := range lines {
		if strings.HasPrefix(strings.TrimSpace(l), "ExecStart=") && strings.TrimSpace(l) != "ExecStart=" {
			idx = i
		}
	}
	if idx < 0 || strings.HasSuffix(lines[idx], `\`) {
		return data, false
	}
	v := strings.TrimPrefix(strings.TrimSpace(lines[idx]), "ExecStart=")
	lines[idx] = "ExecStart=" + edit(v)
	return []byte(strings.Join(lines, "\n")), true
}

// daemonJSON plans the one change of daemon.json: the registry in
// insecure-registries with trust = "daemon-json" (and the addresses mvorch
// trusted before taken out, with any method), and "live-restore": true with
// live_restore = true (taken out again when mvorch put it there and the
// inventory no longer asks for it). Every other key is kept.
func (s RegistryTrust) daemonJSON(c *Context, method, addr string, mine map[string]bool) (*Change, error) {
	old := map[string]bool{}
	if mine[DaemonJSON] {
		old = c.registryAddrs()
	}
	trust := method == TrustDaemonJSON && addr != "" && !s.trustedElsewhere(c, method, addr)
	if method == TrustDaemonJSON {
		delete(old, addr)
	}
	live := c.Inv.Registry != nil && c.Inv.Registry.LiveRestore && !setsFlag(unitExecStart(c.Facts.Files, ""), "--live-restore")
	if live && c.Facts.Docker.Swarm {
		return nil, fmt.Errorf("live_restore = true, but %s is in a swarm, and docker refuses live-restore in swarm mode; leave live_restore out for this inventory", c.Host.Name)
	}
	unlive := !live && c.Facts.liveRestoreByMvorch()
	return c.editDaemonJSON(s, func(doc map[string]any) {
		list, _ := jsonStrings(doc[keyInsecure])
		var next []string
		for _, a := range list {
			if !old[a] {
				next = append(next, a)
			}
		}
		if trust && !containsStr(next, addr) {
			next = append(next, addr)
		}
		if len(next) == 0 {
			delete(doc, keyInsecure)
		} else if strings.Join(next, ",") != strings.Join(list, ",") {
			doc[keyInsecure] = next
		}
		if live {
			doc[keyLiveRestore] = true
		} else if unlive {
			delete(doc, keyLiveRestore)
		}
	})
}

// editDaemonJSON applies edit to the document in daemon.json: nothing when
// it means the same afterwards; a file left empty that mvorch created is
// removed.
func (c *Context) editDaemonJSON(s Step, edit func(map[string]any)) (*Change, error) {
	f := c.Facts.Files[DaemonJSON]
	var data []byte
	if f != nil {
		data = f.Data
	}
	doc, err := parseJSONDoc(data)
	if err != nil {
		return nil, fmt.Errorf("%s on %s is not valid JSON: dockerd would not start with it; fix or remove it first (%v)", DaemonJSON, c.Host.Name, err)
	}
	before, _ := json.Marshal(doc)
	edit(doc)
	if after, _ := json.Marshal(doc); bytes.Equal(before, after) {
		return nil, nil
	}
	if len(doc) == 0 && c.Facts.createdByMvorch(DaemonJSON) {
		return c.removeFile(s, DaemonJSON), nil
	}
	out, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, err
	}
	mode := uint32(0o644)
	if f != nil {
		mode = f.Mode
	}
	return c.writeFile(s, DaemonJSON, append(out, '\n'), mode), nil
}

func daemonJSONRegistries(f *File) ([]string, bool) {
	if f == nil {
		return nil, false
	}
	doc, err := parseJSONDoc(f.Data)
	if err != nil {
		return nil, false
	}
	return jsonStrings(doc[keyInsecure])
}

// flagJSONConflict: dockerd refuses to start when insecure-registries is set
// both as a flag and in daemon.json; catch it before restarting anything.
func flagJSONConflict(c *Context) error {
	if f := c.Facts.Files[DaemonJSON]; f != nil && len(bytes.TrimSpace(f.Data)) > 0 && !json.Valid(f.Data) {
		return fmt.Errorf("%s on %s is not valid JSON: dockerd would not start with it; fix or remove it first", DaemonJSON, c.Host.Name)
	}
	_, inJSON := daemonJSONRegistries(c.Facts.Files[DaemonJSON])
	exec := unitExecStart(c.Facts.Files, "")
	if inJSON && hasInsecureFlag(exec) {
		return fmt.Errorf("on %s, insecure-registries would be set both in %s and as a --insecure-registry flag of docker.service (%q): dockerd refuses to start like that; remove one of them, or use trust = \"daemon-json\" (or \"dropin\") to match what the host already has",
			c.Host.Name, DaemonJSON, exec)
	}
	return nil
}
