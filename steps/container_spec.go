package steps

import (
	"encoding/json"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/mvorch/mvorch/inventory"
	"github.com/mvorch/mvorch/runner/sh"
)

// SetLabel records on a container mvorch runs which of its settings mvorch
// chose (see setRecord): docker reports a container's whole environment
// and every label, the image's among them, and a command or host name of
// its own when none was given. Only what mvorch set is compared with the
// inventory, so that a key the inventory no longer names is noticed and
// what docker or the image added is not mistaken for drift.
const SetLabel = "io.mvorch.set"

// ContainerSpec is everything mvorch gives docker run for one container.
// Command, Entrypoint, MAC and Hostname are "" or nil when docker or the
// image decides.
type ContainerSpec struct {
	Name, Image, Network, IP, Restart string
	Command, Entrypoint               []string
	Env, Labels                       map[string]string
	Volumes, CapAdd, DNS              []string
	MAC, Hostname                     string
	Init                              bool
}

// setRecord is SetLabel's value: the keys whose docker value is mvorch's
// only because mvorch set them. Volumes, cap_add, dns and init are always
// compared: docker adds nothing to them.
type setRecord struct {
	Keys   []string `json:"keys,omitempty"` // command, entrypoint, mac_address, hostname
	Env    []string `json:"env,omitempty"`
	Labels []string `json:"labels,omitempty"`
}

func (r setRecord) has(key string) bool { return slices.Contains(r.Keys, key) }

func (sp ContainerSpec) record() setRecord {
	var r setRecord
	for key, set := range map[string]bool{"command": sp.Command != nil, "entrypoint": sp.Entrypoint != nil, "mac_address": sp.MAC != "", "hostname": sp.Hostname != ""} {
		if set {
			r.Keys = append(r.Keys, key)
		}
	}
	slices.Sort(r.Keys)
	r.Env = slices.Sorted(maps.Keys(sp.Env))
	r.Labels = slices.Sorted(maps.Keys(sp.Labels))
	return r
}

// recordOf reads what mvorch set on a container; none for one it did not
// make, or made before it kept the record.
func recordOf(dc *DockerContainer) setRecord {
	var r setRecord
	_ = json.Unmarshal([]byte(dc.Labels[SetLabel]), &r) // no record: nothing was set
	return r
}

// wantSpec is what the inventory asks of a container; ref is its image as
// docker is given it.
func wantSpec(ct inventory.Container, ref string) ContainerSpec {
	return ContainerSpec{
		Name: ct.Name, Image: ref, Network: ct.Network, IP: ct.IP.String(), Restart: ct.Restart,
		Command: ct.Command, Entrypoint: ct.Entrypoint, Env: ct.Env, Labels: ct.Labels,
		Volumes: ct.Volumes, CapAdd: ct.CapAdd, DNS: ct.DNS, MAC: ct.MACAddress, Hostname: ct.Hostname, Init: ct.Init,
	}
}

// haveSpec is the spec that makes old again, as docker reports it: what
// old's record says mvorch set, and the settings docker adds nothing to.
// Its first network (by name) is the one it joins.
func haveSpec(old *DockerContainer) ContainerSpec {
	r := recordOf(old)
	sp := ContainerSpec{Name: old.Name, Image: old.Image, Restart: old.Restart,
		Volumes: old.Binds, CapAdd: old.CapAdd, DNS: old.DNS, Init: old.Init}
	if sp.Restart == "" {
		sp.Restart = "no"
	}
	if nets := sortedKeys(old.Networks); len(nets) > 0 {
		sp.Network, sp.IP = nets[0], old.Networks[nets[0]]
	}
	if r.has("command") {
		sp.Command = orEmpty(old.Cmd)
	}
	if r.has("entrypoint") {
		sp.Entrypoint = orEmpty(old.Entrypoint)
	}
	if r.has("mac_address") {
		sp.MAC = old.MACs[sp.Network]
	}
	if r.has("hostname") {
		sp.Hostname = old.Hostname
	}
	sp.Env = pick(old.Env, r.Env)
	sp.Labels = pick(old.Labels, r.Labels)
	return sp
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// pick is m restricted to keys (those m has).
func pick(m map[string]string, keys []string) map[string]string {
	if len(keys) == 0 {
		return nil
	}
	out := map[string]string{}
	for _, k := range keys {
		if v, ok := m[k]; ok {
			out[k] = v
		}
	}
	return out
}

// runSpec is docker run for sp. A managed container carries mvorch's
// labels; one mvorch did not make is re-created without them, so that
// mvorch never takes it for its own afterwards.
func runSpec(sp ContainerSpec, managed bool) sh.Command {
	cmd := sh.New("docker", "run", "-itd", "--name", sp.Name, "--network", sp.Network, "--ip", sp.IP, "--restart", sp.Restart)
	if managed {
		rec, _ := json.Marshal(sp.record()) // strings and slices of them: cannot fail
		cmd = cmd.Arg("--label", ManagedLabel+"=true", "--label", SetLabel+"="+string(rec))
	}
	if sp.MAC != "" {
		cmd = cmd.Arg("--mac-address", sp.MAC)
	}
	if sp.Hostname != "" {
		cmd = cmd.Arg("--hostname", sp.Hostname)
	}
	for _, k := range slices.Sorted(maps.Keys(sp.Env)) {
		cmd = cmd.Arg("--env", k+"="+sp.Env[k])
	}
	for _, k := range slices.Sorted(maps.Keys(sp.Labels)) {
		cmd = cmd.Arg("--label", k+"="+sp.Labels[k])
	}
	for _, v := range sp.Volumes {
		cmd = cmd.Arg("--volume", v)
	}
	for _, c := range sp.CapAdd {
		cmd = cmd.Arg("--cap-add", c)
	}
	for _, d := range sp.DNS {
		cmd = cmd.Arg("--dns", d)
	}
	if sp.Init {
		cmd = cmd.Arg("--init")
	}
	if len(sp.Entrypoint) > 0 {
		// docker run takes one program: the inventory allows no more.
		cmd = cmd.Arg("--entrypoint", sp.Entrypoint[0])
	}
	return cmd.Arg("--", sp.Image).Arg(sp.Command...)
}

// FieldChange is one setting of a container that differs from the
// inventory, rendered for a plan: ~ env.TZ: "UTC" -> "Asia/Tokyo".
type FieldChange struct{ Key, From, To string }

func (f FieldChange) String() string { return "~ " + f.Key + ": " + f.From + " -> " + f.To }

// Renderings of a value that is not set.
const (
	unset        = "(unset)"
	imageDefault = "(the image's)"
	dockerChoice = "(docker's choice)"
)

// specDiff compares a container as docker reports it with the spec the
// inventory asks for, field by field. Docker's value of a key counts only
// where the inventory sets it or mvorch set it before (its record): the
// image's environment and labels, a command of the image's, the host name
// and MAC address docker picks, are no drift.
func specDiff(old *DockerContainer, want ContainerSpec) []FieldChange {
	r := recordOf(old)
	var out []FieldChange
	add := func(key, from, to string) {
		if from != to {
			out = append(out, FieldChange{key, from, to})
		}
	}
	add("image", strconv.Quote(old.Image), strconv.Quote(want.Image))
	if len(old.Networks) != 1 || old.Networks[want.Network] != want.IP {
		add("network", strings.TrimSpace(describeNets(old)), want.Network+"@"+want.IP)
	}
	add("restart", strconv.Quote(old.Restart), strconv.Quote(want.Restart))
	if want.Command != nil || r.has("command") {
		add("command", list(old.Cmd), listOr(want.Command, imageDefault))
	}
	if want.Entrypoint != nil || r.has("entrypoint") {
		add("entrypoint", list(old.Entrypoint), listOr(want.Entrypoint, imageDefault))
	}
	tableDiff(add, "env", old.Env, want.Env, r.Env)
	tableDiff(add, "labels", old.Labels, want.Labels, r.Labels)
	add("volumes", list(sorted(old.Binds)), list(sorted(want.Volumes)))
	if want.MAC != "" || r.has("mac_address") {
		add("mac_address", strconv.Quote(old.MACs[want.Network]), quoteOr(want.MAC, dockerChoice))
	}
	if want.Hostname != "" || r.has("hostname") {
		add("hostname", strconv.Quote(old.Hostname), quoteOr(want.Hostname, dockerChoice))
	}
	add("cap_add", list(sorted(capNames(old.CapAdd))), list(sorted(want.CapAdd)))
	add("dns", list(old.DNS), list(want.DNS))
	add("init", strconv.FormatBool(old.Init), strconv.FormatBool(want.Init))
	return out
}

// tableDiff compares the keys of env or labels the inventory names and
// those mvorch set before.
func tableDiff(add func(key, from, to string), name string, have, want map[string]string, before []string) {
	keys := slices.Concat(slices.Collect(maps.Keys(want)), before)
	slices.Sort(keys)
	for _, k := range slices.Compact(keys) {
		from, to := unset, unset
		if v, ok := have[k]; ok {
			from = strconv.Quote(v)
		}
		if v, ok := want[k]; ok {
			to = strconv.Quote(v)
		}
		add(name+"."+k, from, to)
	}
}

// capNames writes capabilities as the inventory does: NET_ADMIN, not
// CAP_NET_ADMIN or net_admin (docker keeps what it was given).
func capNames(caps []string) []string {
	out := make([]string, len(caps))
	for i, c := range caps {
		out[i] = strings.TrimPrefix(strings.ToUpper(c), "CAP_")
	}
	return out
}

func sorted(s []string) []string { return slices.Sorted(slices.Values(s)) }

// list renders a list of strings: ["sh", "-c"]; none at all is [].
func list(s []string) string {
	q := make([]string, len(s))
	for i, v := range s {
		q[i] = strconv.Quote(v)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

func listOr(s []string, none string) string {
	if s == nil {
		return none
	}
	return list(s)
}

func quoteOr(s, none string) string {
	if s == "" {
		return none
	}
	return strconv.Quote(s)
}

// project is the container as docker will report it once sp runs.
func (sp ContainerSpec) project() *DockerContainer {
	rec, _ := json.Marshal(sp.record())
	labels := map[string]string{ManagedLabel: "true", SetLabel: string(rec)}
	maps.Copy(labels, sp.Labels)
	dc := &DockerContainer{Name: sp.Name, Image: sp.Image, Running: true, Restart: sp.Restart, Managed: true,
		Networks: map[string]string{sp.Network: sp.IP}, MACs: map[string]string{sp.Network: sp.MAC},
		Cmd: sp.Command, Entrypoint: sp.Entrypoint, Env: maps.Clone(sp.Env), Labels: labels, Hostname: sp.Hostname,
		Binds: sp.Volumes, CapAdd: sp.CapAdd, DNS: sp.DNS, Init: sp.Init}
	return dc
}
