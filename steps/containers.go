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
	ch.Do = []Op{rm, run}
	ch.Undo = append([]Op{rm}, recreate(old)...)
	if !old.Managed {
		ch.Conflict = fmt.Sprintf("a container named %s that mvorch did not make exists on %s with other settings", ct.Name, c.Host.Name)
		// Not destroyed: what it was made with (ports, env, volumes,
		// networks, command) cannot all be read back and run again.
		aside := AsideName(ct.Name)
		ch.Detail += ", the old one stopped and kept as " + aside
		// Renamed before it is stopped: a run cut off in between leaves it
		// aside and running, which the undo puts back as it was.
		ch.Do = []Op{exec(sh.New("docker", "rename", ct.Name, aside).Raw("&&").Arg("docker", "stop", "--", aside).Raw(">/dev/null")), run}
		ch.Undo = putBack(ct.Name, aside, old.Running)
	}
	project()
	return ch, nil
}

// asideSuffix marks a container mvorch stopped and renamed to replace it.
const asideSuffix = ".mvorch-aside"

// AsideName is the name a replaced container mvorch did not make is kept
// under until rollback puts it back.
func AsideName(name string) string { return name + asideSuffix }

// putBack undoes a replacement of a container mvorch did not make: while
// the original is aside, mvorch's container of that name is removed and the
// original renamed back (and started, if it ran). Safe to repeat: once the
// original is back, there is nothing aside and nothing to do.
func putBack(name, aside string, running bool) []Op {
	cmd := sh.New("docker", "inspect", "--", aside).Raw(">/dev/null 2>&1 || exit 0;").
		Arg("docker", "rm", "-f", "--", name).Raw(">/dev/null 2>&1;").
		Arg("docker", "rename", aside, name)
	if running {
		cmd = cmd.Raw("&&").Arg("docker", "start", "--", name).Raw(">/dev/null")
	}
	return []Op{exec(cmd)}
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

// recreate is the undo for a container mvorch removed. One mvorch made comes
// back exactly (recreateManaged); one it did not make (taken with a network
// that had to be replaced) the best it can: the same name, image, restart
// policy and first network address. (One replaced by --replace is kept aside
// instead: see putBack.)
func recreate(old *DockerContainer) []Op {
	if old.Managed {
		return recreateManaged(old)
	}
	nets := sortedKeys(old.Networks)
	if len(nets) == 0 {
		return nil
	}
	restart := old.Restart
	if restart == "" {
		restart = "no"
	}
	return []Op{exec(runUnmanaged(old.Name, nets[0], old.Networks[nets[0]], restart, old.Image))}
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
		// A container kept aside for self is stopped until self goes.
		if name != self && name != AsideName(self) && ct.Networks[network] == ip {
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

func sortedKeys[T any](m map[string]T) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
