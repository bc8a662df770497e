package steps

import (
	"fmt"
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
	if !c.Facts.DockerConfigChanged {
		if !d.Active {
			return nil, fmt.Errorf("docker is not running on %s: start it (systemctl start docker) and check it with docker info", c.Host.Name)
		}
		return nil, nil
	}
	ch := c.newChange(s, ActionChange, "docker.service")
	ch.Detail = "systemctl daemon-reload && systemctl restart docker"
	if running := runningContainers(d); len(running) > 0 {
		ch.Warnings = []string{"restarting docker interrupts running containers: " + strings.Join(running, ", ")}
	}
	ch.Do = []Op{{Kind: OpRestartDocker}}
	ch.Undo = []Op{{Kind: OpRestartDocker}}
	d.Active = true
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
