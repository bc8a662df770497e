package steps

import (
	"sort"
	"strconv"
	"strings"

	"github.com/mvorch/mvorch/runner/sh"
)

// DockerRestart makes the running dockerd take the configuration the trust
// step wrote, once per host (article 4.2, step 5: daemon-reload, restart).
// What daemon.json alone changed is applied by a reload, which interrupts
// no container; a changed command line (unit, drop-in) needs a restart.
type DockerRestart struct{}

func (DockerRestart) Name() string  { return "docker-restart" }
func (DockerRestart) Title() string { return "Apply docker's configuration (reload, or restart)" }

func (s DockerRestart) Plan(c *Context) ([]*Change, error) {
	d := &c.Facts.Docker
	cfg := c.Facts.DockerConfig
	addr := c.Inv.RegistryAddr()
	inJSON := false
	if list, _ := daemonJSONRegistries(c.Facts.Files[DaemonJSON]); addr != "" && containsStr(list, addr) {
		inJSON = true
	}
	// The configuration may be right while the running dockerd started (or
	// was last reloaded) before it was.
	stale, staleFlag := "", false
	if addr != "" && d.Active && !containsStr(d.Insecure, addr) && !cfg.Any() {
		stale = "the configuration trusts " + addr + " but the running dockerd does not yet"
		staleFlag = !inJSON
	}
	live := c.Inv.Registry != nil && c.Inv.Registry.LiveRestore
	if live && !d.LiveRestore && !cfg.Any() && stale == "" {
		stale = "daemon.json says live-restore but the running dockerd does not yet"
	}
	if !cfg.Any() && stale == "" {
		return nil, nil
	}
	ch := c.newChange(s, ActionChange, "docker.service")
	reloadCmd := sh.New("systemctl", "reload", "docker")
	if cfg.Units {
		reloadCmd = sh.New("systemctl", "daemon-reload").Raw("&&").Arg("systemctl", "reload", "docker")
	}
	reload := Op{Kind: OpReloadDocker, Cmd: reloadCmd.String(), Path: DaemonJSON, Addr: addr, Data: c.reloadDefaults()}
	why := ""
	switch {
	case cfg.Flags:
		why = "dockerd's command line changed: only a restart applies it"
	case staleFlag:
		why = stale + ", and only a restart applies a command-line flag"
	default:
		why = c.reloadBlocker()
	}
	running := runningContainers(d)
	if why == "" {
		ch.Detail = "systemctl reload docker: dockerd re-reads daemon.json, no container is interrupted"
		if stale != "" {
			ch.Detail += " (" + stale + ")"
		}
		ch.Do = []Op{reload}
		ch.Undo = []Op{reload}
	} else {
		ch.Detail = "systemctl daemon-reload && systemctl restart docker (" + why + ")"
		ch.Do = []Op{{Kind: OpRestartDocker}}
		ch.Undo = []Op{{Kind: OpRestartDocker}}
		switch {
		case live && !d.LiveRestore && c.reloadBlocker() == "":
			// live-restore is on in the running dockerd before it stops.
			ch.Detail = "systemctl reload docker (live-restore on), then " + ch.Detail + "; live-restore keeps the containers running"
			first := reload
			first.Data = liveRestoreFirst
			ch.Do = []Op{first, {Kind: OpRestartDocker}}
		case live && d.LiveRestore:
			ch.Detail += "; live-restore keeps the containers running"
		case len(running) > 0:
			warn := "restarting docker interrupts running containers: " + strings.Join(running, ", ")
			if c.Inv.Registry != nil && c.Inv.Registry.Trust != TrustDaemonJSON {
				warn += ` (trust = "daemon-json" applies by a reload instead; live_restore = true keeps them running)`
			} else if !live {
				warn += " (live_restore = true keeps them running)"
			} else {
				warn += " (live-restore needs a reload first: " + c.reloadBlocker() + ")"
			}
			ch.Warnings = []string{warn}
		}
	}
	d.Active = true
	if addr != "" {
		d.Insecure = append(d.Insecure, addr)
	}
	d.LiveRestore = d.LiveRestore || live
	c.Facts.DockerConfig = DockerConfigChange{}
	return []*Change{ch}, nil
}

// reloadBlocker says why systemctl reload docker cannot apply daemon.json
// on this host ("" when it can).
func (c *Context) reloadBlocker() string {
	if unitValue(c.Facts.Files, "ExecReload", "") == "" {
		return "docker.service has no ExecReload, so systemctl reload docker cannot make dockerd re-read daemon.json"
	}
	v := c.Facts.Docker.Version
	major, err := strconv.Atoi(v[:max(strings.IndexByte(v, '.'), 0)])
	if v != "" && err == nil && major < 17 {
		return "dockerd " + v + " predates 17.03; mvorch reloads only dockerd 17.03 and later"
	}
	return ""
}

func runningContainers(d *Docker) []string {
	var out []string
	for name, ct := range d.Containers {
		if ct.Running {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}
