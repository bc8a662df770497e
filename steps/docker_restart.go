package steps

import (
	"sort"
	"strings"
)

// DockerRestart reloads systemd and restarts docker when its configuration
// changed, once per host (article 4.2, step 5: daemon-reload, restart).
type DockerRestart struct{}

func (DockerRestart) Name() string  { return "docker-restart" }
func (DockerRestart) Title() string { return "Reload systemd and restart docker" }

func (s DockerRestart) Plan(c *Context) ([]*Change, error) {
	d := &c.Facts.Docker
	stale := ""
	if addr := c.Inv.RegistryAddr(); addr != "" && d.Active && !containsStr(d.Insecure, addr) && !c.Facts.DockerConfigChanged {
		// The configuration trusts the registry but the running dockerd
		// started before it did: only a restart makes it count.
		stale = "the configuration trusts " + addr + " but the running dockerd does not yet"
	}
	if !c.Facts.DockerConfigChanged && stale == "" {
		return nil, nil
	}
	ch := c.newChange(s, ActionChange, "docker.service")
	ch.Detail = "systemctl daemon-reload && systemctl restart docker"
	if stale != "" {
		ch.Detail += " (" + stale + ")"
	}
	if running := runningContainers(d); len(running) > 0 {
		ch.Warnings = []string{"restarting docker interrupts running containers: " + strings.Join(running, ", ")}
	}
	ch.Do = []Op{{Kind: OpRestartDocker}}
	ch.Undo = []Op{{Kind: OpRestartDocker}}
	d.Active = true
	if addr := c.Inv.RegistryAddr(); addr != "" {
		d.Insecure = append(d.Insecure, addr)
	}
	c.Facts.DockerConfigChanged = false
	return []*Change{ch}, nil
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
