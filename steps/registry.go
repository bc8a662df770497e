package steps

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/mvorch/mvorch/runner/sh"
)

// Registry runs the private registry container on the registry host and
// waits until it answers (article 4.2, step 5: docker run ... registry).
type Registry struct{}

func (Registry) Name() string  { return "registry" }
func (Registry) Title() string { return "Private registry container" }

func (s Registry) Plan(c *Context) ([]*Change, error) {
	r := c.Inv.Registry
	if r == nil || r.Host != c.Host.Name {
		return nil, nil
	}
	d := &c.Facts.Docker
	port := strconv.Itoa(r.Port)
	wantPort := port + "/tcp->:" + port
	run := sh.New("docker", "run", "-itd", "--name", r.Name, "-p", port+":5000", "--restart=always",
		"--label", ManagedLabel+"=true", "--", r.Image)
	wait := Op{Kind: OpWaitRegistry, Addr: c.Inv.RegistryAddr()}
	rm := exec(sh.New("docker", "rm", "-f", "-v", "--", r.Name).Raw(">/dev/null 2>&1 || true"))

	ct := d.Containers[r.Name]
	if ct == nil {
		if other := portUser(d, port); other != "" {
			return nil, fmt.Errorf("registry port %s is already published on %s by container %s: set [registry] port to a free port, or remove that container", port, c.Host.Name, other)
		}
		if _, ok := d.Images[imageKey(r.Image)]; !ok {
			return nil, fmt.Errorf("image %s is not on %s (the registry host), and mvorch pulls nothing from the internet: docker load it there first", r.Image, c.Host.Name)
		}
		ch := c.newChange(s, ActionAdd, "container "+r.Name)
		ch.Detail = fmt.Sprintf("%s, published on %s, restart always", r.Image, c.Inv.RegistryAddr())
		ch.Do = []Op{exec(run), wait}
		ch.Undo = []Op{rm}
		s.project(c)
		return []*Change{ch}, nil
	}
	same := ct.Image == r.Image && containsStr(normalizePorts(ct.Ports), wantPort) && ct.Restart == "always"
	switch {
	case same && ct.Running:
		c.Facts.RegistryUp = true
		return nil, nil
	case same:
		ch := c.newChange(s, ActionChange, "container "+r.Name)
		ch.Detail = "start (stopped)"
		ch.Do = []Op{exec(sh.New("docker", "start", "--", r.Name)), wait}
		ch.Undo = []Op{exec(sh.New("docker", "stop", "--", r.Name))}
		c.Facts.RegistryUp = true
		return []*Change{ch}, nil
	}
	ch := c.newChange(s, ActionReplace, "container "+r.Name)
	ch.Detail = fmt.Sprintf("%s %s restart=%s -> %s %s restart=always", ct.Image, strings.Join(ct.Ports, ","), ct.Restart, r.Image, wantPort)
	if !ct.Managed {
		ch.Conflict = fmt.Sprintf("a container named %s that mvorch did not make exists on %s with other settings", r.Name, c.Host.Name)
	}
	ch.Do = []Op{rm, exec(run), wait}
	ch.Undo = []Op{rm}
	s.project(c)
	return []*Change{ch}, nil
}

// project records the new registry: empty, so every image will be pushed.
func (s Registry) project(c *Context) {
	r := c.Inv.Registry
	c.Facts.Docker.Containers[r.Name] = &DockerContainer{Name: r.Name, Image: r.Image, Running: true, Restart: "always", Managed: true}
	c.Facts.RegistryUp = true
	c.Facts.RegistryTags = map[string]bool{}
}

// normalizePorts drops the host IP, which docker reports as "" or 0.0.0.0.
func normalizePorts(ports []string) []string {
	var out []string
	for _, p := range ports {
		spec, hostPort, _ := strings.Cut(p, "->")
		_, port, _ := strings.Cut(hostPort, ":")
		out = append(out, spec+"->:"+port)
	}
	return out
}

func portUser(d *Docker, port string) string {
	for _, ct := range d.Containers {
		for _, p := range normalizePorts(ct.Ports) {
			if strings.HasSuffix(p, "->:"+port) {
				return ct.Name
			}
		}
	}
	return ""
}

// imageKey is how `docker images` names a reference: with a tag.
func imageKey(ref string) string {
	last := ref[strings.LastIndex(ref, "/")+1:]
	if !strings.Contains(last, ":") && !strings.Contains(ref, "@") {
		return ref + ":latest"
	}
	return ref
}
