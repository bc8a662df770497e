package steps

import (
	"fmt"
	"sort"
	"strings"

	"github.com/mvorch/mvorch/inventory"
	"github.com/mvorch/mvorch/runner/sh"
)

// Containers runs the containers with fixed addresses on their macvlan
// networks (article 4.2 step 6: docker run -itd --network ... --ip ...).
type Containers struct{}

func (Containers) Name() string  { return "containers" }
func (Containers) Title() string { return "Containers with fixed addresses" }

// runUnmanaged re-creates a container mvorch did not make: without its label,
// so that mvorch never takes it for its own afterwards.
func runUnmanaged(name, network, ip, restart, image string) sh.Command {
	return sh.New("docker", "run", "-itd", "--name", name, "--network", network, "--ip", ip,
		"--restart", restart, "--", image)
}

func (s Containers) Plan(c *Context) ([]*Change, error) {
	var out []*Change
	want := map[string]bool{}
	if c.Inv.Registry != nil && c.Inv.Registry.Host == c.Host.Name {
		want[c.Inv.Registry.Name] = true
	}
	for _, ct := range c.Inv.ContainersOn(c.Host.Name) {
		want[ct.Name] = true
		ch, err := s.planContainer(c, ct)
		if err != nil {
			return nil, err
		}
		if ch != nil {
			out = append(out, ch)
		}
	}
	return append(out, s.removeStale(c, want)...), nil
}

func (s Containers) planContainer(c *Context, ct inventory.Container) (*Change, error) {
	d := &c.Facts.Docker
	ref := c.Inv.ImageRef(ct.Image)
	if _, ok := d.Images[imageKey(ref)]; !ok {
		return nil, fmt.Errorf("image %s for container %s is not on %s and mvorch pulls nothing from the internet: docker load it there, or list it as an [[image]] to push it through the registry", ref, ct.Name, c.Host.Name)
	}
	if _, ok := d.Networks[ct.Network]; !ok {
		return nil, fmt.Errorf("container %s: network %s does not exist on %s", ct.Name, ct.Network, c.Host.Name)
	}
	ip := ct.IP.String()
	if other := ipUser(d, ct.Network, ip, ct.Name); other != "" {
		return nil, fmt.Errorf("container %s: address %s on %s is already taken on %s by container %s", ct.Name, ip, ct.Network, c.Host.Name, other)
	}
	want := wantSpec(ct, ref)
	run := exec(runSpec(want, true))
	rm := exec(sh.New("docker", "rm", "-f", "--", ct.Name).Raw(">/dev/null 2>&1 || true"))
	old := d.Containers[ct.Name]
	project := func() { d.Containers[ct.Name] = want.project() }
	if old == nil {
		ch := c.newChange(s, ActionAdd, "container "+ct.Name)
		ch.Detail = fmt.Sprintf("%s on %s at %s", ref, ct.Network, ip)
		ch.Do, ch.Undo = []Op{run}, []Op{rm}
		project()
		return ch, nil
	}
	diff := specDiff(old, want)
	if len(diff) == 0 {
		if old.Running {
			return nil, nil
		}
		ch := c.newChange(s, ActionChange, "container "+ct.Name)
		ch.Detail = "start (stopped)"
		ch.Do = []Op{exec(sh.New("docker", "start", "--", ct.Name).Raw(">/dev/null"))}
		ch.Undo = []Op{exec(sh.New("docker", "stop", "--", ct.Name).Raw(">/dev/null"))}
		old.Running = true
		return ch, nil
	}
	ch := c.newChange(s, ActionReplace, "container "+ct.Name)
	ch.Detail, ch.Diff = describeDiff(diff)
	if !old.Managed {
		ch.Conflict = fmt.Sprintf("a container named %s that mvorch did not make exists on %s with other settings", ct.Name, c.Host.Name)
	}
	ch.Do = []Op{rm, run}
	ch.Undo = append([]Op{rm}, recreate(old)...)
	project()
	return ch, nil
}

// describeDiff is a re-creation's reason (the keys that changed) and its
// field-by-field changes, one line each.
func describeDiff(diff []FieldChange) (detail, lines string) {
	keys := make([]string, len(diff))
	var sb strings.Builder
	for i, f := range diff {
		keys[i] = f.Key
		sb.WriteString(f.String() + "\n")
	}
	return "re-create: docker cannot change " + strings.Join(keys, ", ") + " of a container in place", sb.String()
}

// recreate is the undo for a container mvorch removed. One mvorch made
// comes back exactly (recreateManaged); for one it did not make, the best
// it can: the same name, image, restart policy and first network address.
func recreate(old *DockerContainer) []Op {
	if old.Managed {
		return recreateManaged(old)
	}
	for _, net := range sortedKeys(old.Networks) {
		restart := old.Restart
		if restart == "" {
			restart = "no"
		}
		return []Op{exec(runUnmanaged(old.Name, net, old.Networks[net], restart, old.Image))}
	}
	return nil
}

// recreateManaged is the undo for a container mvorch made: the exact
// container again, every setting mvorch gave it (see haveSpec).
func recreateManaged(old *DockerContainer) []Op {
	if len(old.Networks) == 0 {
		return nil
	}
	return []Op{exec(runSpec(haveSpec(old), true))}
}

func (s Containers) removeStale(c *Context, want map[string]bool) []*Change {
	var out []*Change
	for _, name := range staleManaged(c.Facts.Docker.Containers, func(ct *DockerContainer) bool { return ct.Managed }, want) {
		old := c.Facts.Docker.Containers[name]
		ch := c.newChange(s, ActionRemove, "container "+name)
		ch.Detail = "no longer in the inventory"
		ch.Do = []Op{exec(sh.New("docker", "rm", "-f", "--", name).Raw(">/dev/null"))}
		ch.Undo = recreate(old)
		delete(c.Facts.Docker.Containers, name)
		out = append(out, ch)
	}
	return out
}

func ipUser(d *Docker, network, ip, self string) string {
	for name, ct := range d.Containers {
		if name != self && ct.Networks[network] == ip {
			return name
		}
	}
	return ""
}

func describeNets(ct *DockerContainer) string {
	s := ""
	for _, n := range sortedKeys(ct.Networks) {
		s += n + "@" + ct.Networks[n] + " "
	}
	return s
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
