package main

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mvorch/mvorch/testbed/labtest"
)

// tomlStr writes s as a TOML basic string.
func tomlStr(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "\t", `\t`)
	return `"` + r.Replace(s) + `"`
}

func tomlList(items ...string) string {
	q := make([]string, len(items))
	for i, s := range items {
		q[i] = tomlStr(s)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

func tomlTable(kv ...string) string {
	var parts []string
	for i := 0; i+1 < len(kv); i += 2 {
		parts = append(parts, tomlStr(kv[i])+" = "+tomlStr(kv[i+1]))
	}
	return "{ " + strings.Join(parts, ", ") + " }"
}

// The values the service container is given: quotes, '$', backquotes,
// newlines and runs of spaces, which a shell would read if one saw them
// unquoted.
var (
	svcScript = `printf '%s|' "$0" "$1" "$QUOTES" "$DOLLAR" "$MULTI" > /tmp/args; exec sleep 1000000`
	svcArgs   = []string{"-c", svcScript, "arg 0  with 'single' quotes", `$(echo no) "double" ` + "`x`\nsecond line"}
	svcEnv    = []string{
		"TZ", "UTC",
		"QUOTES", `it's "quoted" \ back`,
		"DOLLAR", "$HOME ${PATH} $(id) `id` ;|&",
		"MULTI", "line 1\n  line 2\n",
		"SPACES", "  lead and trail  ",
	}
	svcLabels = []string{"com.example.role", "dns", "com.example.note", "a 'b' \"c\" $d\ne"}
	svcMAC    = "02:42:cb:00:71:aa"
)

// svcKeys are the optional keys of the service container, each a TOML line.
func svcKeys() map[string]string {
	return map[string]string{
		"command":     "command = " + tomlList(svcArgs...),
		"entrypoint":  `entrypoint = ["/bin/sh"]`,
		"env":         "env = " + tomlTable(svcEnv...),
		"volumes":     `volumes = ["/srv/mvt-data:/data:ro", "mvtvol:/vol"]`,
		"mac_address": "mac_address = " + tomlStr(svcMAC),
		"hostname":    `hostname = "svc-one"`,
		"labels":      "labels = " + tomlTable(svcLabels...),
		"cap_add":     `cap_add = ["NET_ADMIN", "NET_RAW"]`,
		"dns":         `dns = ["192.0.2.53"]`,
		"init":        "init = true",
	}
}

var svcKeyOrder = []string{"command", "entrypoint", "env", "volumes", "mac_address", "hostname", "labels", "cap_add", "dns", "init"}

// withSvc writes the lab's inventory plus the service container svc on
// docker01, its keys as given.
func withSvc(t *testing.T, base string, keys map[string]string) string {
	t.Helper()
	data, err := os.ReadFile(base)
	if err != nil {
		t.Fatal(err)
	}
	block := "\n[[container]]\nname = \"svc\"\nhost = \"docker01\"\nnetwork = \"mac_net10\"\nip = \"203.0.113.140\"\nimage = \"busybox:v1\"\n"
	for _, k := range svcKeyOrder {
		block += keys[k] + "\n"
	}
	out := filepath.Join(t.TempDir(), "inventory.toml")
	if err := os.WriteFile(out, append(data, block...), 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}

// docker01Only is the lab's inventory without docker02: rollback undoes
// the last run on each host that has anything left to undo, and on a
// docker02 that the changes of svc never touch that would be the first run.
func docker01Only(t *testing.T, lab *labtest.Lab) string {
	t.Helper()
	return variant(t, lab.Inventory(),
		"\n[[host]]\nname = \"docker02\"\naddress = \""+lab.Host(t, "docker02").Addr+"\"\n", "",
		`, docker02 = "203.0.113.12/26"`, "",
		`, docker02 = "203.0.113.76/26"`, "",
		"\n[[container]]\nname = \"bbox11\"\nhost = \"docker02\"\nnetwork = \"mac_net10\"\nip = \"203.0.113.131\"\nimage = \"busybox:v1\"\n", "",
		"\n[[container]]\nname = \"bbox21\"\nhost = \"docker02\"\nnetwork = \"mac_net20\"\nip = \"203.0.113.195\"\nimage = \"busybox:v1\"\n", "")
}

type inspected struct {
	ID     string `json:"Id"`
	Config struct {
		Cmd, Entrypoint, Env []string
		Hostname, MacAddress string
		Labels               map[string]string
	}
	HostConfig struct {
		Binds, CapAdd, Dns []string
		Init               *bool
		RestartPolicy      struct{ Name string }
	}
	NetworkSettings struct {
		Networks map[string]struct{ MacAddress, IPAddress string }
	}
}

func inspect(t *testing.T, lab *labtest.Lab, host, name string) (inspected, string) {
	t.Helper()
	raw := lab.MustExec(t, host, "docker inspect "+name)
	var out []inspected
	var whole []map[string]any
	if err := errors.Join(json.Unmarshal([]byte(raw), &out), json.Unmarshal([]byte(raw), &whole)); err != nil || len(out) != 1 {
		t.Fatalf("docker inspect %s: %v\n%s", name, err, raw)
	}
	return out[0], fingerprint(t, whole[0])
}

// fingerprint is the whole container but its id, name and what docker sets
// at each start (state, addresses of the moment, paths named by the id).
// Env, Binds and Mounts are compared as sets: docker keeps no order of them
// (its CLI collects --volume in a map; its daemon merges env through one).
func fingerprint(t *testing.T, c map[string]any) string {
	t.Helper()
	cfg, _ := c["Config"].(map[string]any)
	hc, _ := c["HostConfig"].(map[string]any)
	nets, _ := c["NetworkSettings"].(map[string]any)["Networks"].(map[string]any)
	net, _ := nets["mac_net10"].(map[string]any)
	for _, list := range []struct {
		m   map[string]any
		key string
	}{{cfg, "Env"}, {hc, "Binds"}, {c, "Mounts"}} {
		items, _ := list.m[list.key].([]any)
		slices.SortFunc(items, func(a, b any) int {
			x, _ := json.Marshal(a)
			y, _ := json.Marshal(b)
			return strings.Compare(string(x), string(y))
		})
	}
	fp, err := json.Marshal(map[string]any{"Config": cfg, "HostConfig": hc, "Mounts": c["Mounts"], "Image": c["Image"],
		"MacAddress": net["MacAddress"], "IPAMConfig": net["IPAMConfig"]})
	if err != nil {
		t.Fatal(err)
	}
	return string(fp)
}

// containerIDs maps host/name to container id for every container of the lab.
func containerIDs(t *testing.T, lab *labtest.Lab) map[string]string {
	t.Helper()
	ids := map[string]string{}
	for _, h := range lab.Hosts {
		for _, l := range strings.Split(strings.TrimSpace(lab.MustExec(t, h.Name, "docker ps -a --no-trunc --format '{{.Names}} {{.ID}}'")), "\n") {
			if name, id, ok := strings.Cut(l, " "); ok {
				ids[h.Name+"/"+name] = id
			}
		}
	}
	return ids
}

func sorted(s []string) []string { return slices.Sorted(slices.Values(s)) }

type keysPlan struct {
	Changes []struct{ Host, Action, Target, Detail, Diff string }
}

// A container with every optional key: created as written, byte for byte
// (docker inspect and the running process agree with the inventory), left
// alone by a second run; each key changed on its own re-creates that
// container alone, with a plan that names the key from what to what, and a
// rollback gives back the container exactly as it was. Its MAC address
// survives a docker restart and a reboot.
func TestLabContainerKeys(t *testing.T) {
	lab := labtest.Get(t)
	base := docker01Only(t, lab)
	before := lab.Snapshots(t)
	t.Cleanup(func() {
		resetLab(t, lab, base, before)
		lab.Exec(t, "docker01", "docker volume rm mvtvol; rm -rf /srv/mvt-data")
	})
	lab.MustExec(t, "docker01", "mkdir -p /srv/mvt-data && echo data > /srv/mvt-data/f")
	inv := withSvc(t, base, svcKeys())
	if r := mvorch(t, lab, "validate", inv); r.Code != 0 {
		t.Fatalf("validate: %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	runJSON(t, lab, "--no-verify", inv)

	got, fp := inspect(t, lab, "docker01", "svc")
	checkSvc(t, lab, got)
	if r := mvorch(t, lab, "plan", "--detailed-exitcode", inv); r.Code != 0 {
		t.Fatalf("plan after the run: exit %d\n%s", r.Code, r.Stdout)
	}

	changed := map[string]struct{ line, diff string }{
		"command":     {"command = " + tomlList(append(slices.Clone(svcArgs), "one more")...), `~ command: [`},
		"entrypoint":  {`entrypoint = ["/bin/ash"]`, `~ entrypoint: ["/bin/sh"] -> ["/bin/ash"]`},
		"env":         {"env = " + tomlTable(append([]string{"TZ", "Asia/Tokyo"}, svcEnv[2:]...)...), `~ env.TZ: "UTC" -> "Asia/Tokyo"`},
		"volumes":     {`volumes = ["/srv/mvt-data:/data", "mvtvol:/vol"]`, `~ volumes: ["/srv/mvt-data:/data:ro", "mvtvol:/vol"] -> ["/srv/mvt-data:/data", "mvtvol:/vol"]`},
		"mac_address": {`mac_address = "02:42:cb:00:71:ab"`, `~ mac_address: "02:42:cb:00:71:aa" -> "02:42:cb:00:71:ab"`},
		"hostname":    {`hostname = "svc-two"`, `~ hostname: "svc-one" -> "svc-two"`},
		"labels":      {"labels = " + tomlTable("com.example.role", "ntp", svcLabels[2], svcLabels[3]), `~ labels.com.example.role: "dns" -> "ntp"`},
		"cap_add":     {`cap_add = ["NET_ADMIN"]`, `~ cap_add: ["NET_ADMIN", "NET_RAW"] -> ["NET_ADMIN"]`},
		"dns":         {`dns = ["192.0.2.54"]`, `~ dns: ["192.0.2.53"] -> ["192.0.2.54"]`},
		"init":        {"init = false", `~ init: true -> false`},
	}
	for _, key := range svcKeyOrder {
		t.Run(key, func(t *testing.T) {
			keys := svcKeys()
			keys[key] = changed[key].line
			inv2 := withSvc(t, base, keys)
			var p keysPlan
			if err := json.Unmarshal([]byte(mustMvorch(t, lab, "plan", "--output", "json", inv2).Stdout), &p); err != nil {
				t.Fatal(err)
			}
			if len(p.Changes) != 1 || p.Changes[0].Host != "docker01" || p.Changes[0].Action != "replace" || p.Changes[0].Target != "container svc" {
				t.Fatalf("plan of a changed %s: %+v", key, p.Changes)
			}
			ch := p.Changes[0]
			lines := strings.Split(strings.TrimSpace(ch.Diff), "\n")
			if len(lines) != 1 || !strings.HasPrefix(lines[0], changed[key].diff) || !strings.Contains(ch.Detail, key) {
				t.Errorf("plan of a changed %s: detail %q, diff:\n%s\nwant one line starting %s", key, ch.Detail, ch.Diff, changed[key].diff)
			}
			text := mustMvorch(t, lab, "plan", "--no-color", inv2).Stdout
			if !strings.Contains(text, "-/+ container svc  re-create") || !strings.Contains(text, "        "+changed[key].diff) {
				t.Errorf("plan text of a changed %s:\n%s", key, text)
			}
			ids := containerIDs(t, lab)
			runJSON(t, lab, "--no-verify", inv2)
			after := containerIDs(t, lab)
			for c, id := range ids {
				if c == "docker01/svc" {
					if after[c] == id {
						t.Errorf("svc was not re-created for a changed %s", key)
					}
				} else if after[c] != id {
					t.Errorf("%s was re-created for a change of svc's %s", c, key)
				}
			}
			if _, fp2 := inspect(t, lab, "docker01", "svc"); fp2 == fp {
				t.Errorf("svc after a run with %s changed looks as before", key)
			}
			if r := mvorch(t, lab, "plan", "--detailed-exitcode", inv2); r.Code != 0 {
				t.Errorf("plan after the run of a changed %s: exit %d\n%s", key, r.Code, r.Stdout)
			}
			mustMvorch(t, lab, "rollback", "--yes", inv2)
			if _, fp2 := inspect(t, lab, "docker01", "svc"); fp2 != fp {
				t.Errorf("rollback of a changed %s: svc is not as before:\n%s\nwas:\n%s", key, fp2, fp)
			}
			if r := mvorch(t, lab, "plan", "--detailed-exitcode", inv); r.Code != 0 {
				t.Errorf("plan after rolling back a changed %s: exit %d\n%s", key, r.Code, r.Stdout)
			}
		})
	}

	t.Run("mac across restart and reboot", func(t *testing.T) {
		lab.MustExec(t, "docker01", "systemctl restart docker")
		waitMAC(t, lab, "after a docker restart")
		lab.Reboot(t, "docker01", false)
		waitMAC(t, lab, "after a reboot")
	})
}

// checkSvc compares docker's view of svc, and what its process received,
// with the inventory's values, exactly.
func checkSvc(t *testing.T, lab *labtest.Lab, got inspected) {
	t.Helper()
	eq := func(what string, got, want any) {
		t.Helper()
		g, _ := json.Marshal(got)
		w, _ := json.Marshal(want)
		if string(g) != string(w) {
			t.Errorf("%s: docker has %s, want %s", what, g, w)
		}
	}
	eq("Cmd", got.Config.Cmd, svcArgs)
	eq("Entrypoint", got.Config.Entrypoint, []string{"/bin/sh"})
	for i := 0; i < len(svcEnv); i += 2 {
		if kv := svcEnv[i] + "=" + svcEnv[i+1]; !slices.Contains(got.Config.Env, kv) {
			t.Errorf("Env lacks %q: %q", kv, got.Config.Env)
		}
	}
	for i := 0; i < len(svcLabels); i += 2 {
		eq("label "+svcLabels[i], got.Config.Labels[svcLabels[i]], svcLabels[i+1])
	}
	eq("Binds", sorted(got.HostConfig.Binds), []string{"/srv/mvt-data:/data:ro", "mvtvol:/vol"})
	eq("MAC", got.NetworkSettings.Networks["mac_net10"].MacAddress, svcMAC)
	eq("Hostname", got.Config.Hostname, "svc-one")
	eq("CapAdd", got.HostConfig.CapAdd, []string{"NET_ADMIN", "NET_RAW"})
	eq("Dns", got.HostConfig.Dns, []string{"192.0.2.53"})
	eq("Init", got.HostConfig.Init != nil && *got.HostConfig.Init, true)
	env := map[string]string{}
	for i := 0; i < len(svcEnv); i += 2 {
		env[svcEnv[i]] = svcEnv[i+1]
	}
	want := svcArgs[2] + "|" + svcArgs[3] + "|" + env["QUOTES"] + "|" + env["DOLLAR"] + "|" + env["MULTI"] + "|"
	var args string
	for range 50 {
		if r := lab.Exec(t, "docker01", "docker exec svc cat /tmp/args"); r.Code == 0 {
			args = r.Stdout
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	eq("what the command received", args, want)
	eq("/data (read-only volume)", lab.Exec(t, "docker01", "docker exec svc cat /data/f").Stdout, "data\n")
	if r := lab.Exec(t, "docker01", "docker exec svc touch /data/g"); r.Code == 0 {
		t.Errorf("/data is writable: the volume is not read-only")
	}
	eq("hostname inside", lab.MustExec(t, "docker01", "docker exec svc hostname"), "svc-one\n")
	eq("PID 1 (init)", lab.MustExec(t, "docker01", "docker exec svc cat /proc/1/comm"), "docker-init\n")
}

// waitMAC waits until svc runs again and checks its MAC address, as docker
// reports it and as its interface has it.
func waitMAC(t *testing.T, lab *labtest.Lab, when string) {
	t.Helper()
	var r labtest.Result
	for range 100 {
		r = lab.Exec(t, "docker01", "docker exec svc cat /sys/class/net/eth0/address")
		if r.Code == 0 {
			break
		}
		time.Sleep(300 * time.Millisecond)
	}
	if strings.TrimSpace(r.Stdout) != svcMAC {
		t.Errorf("%s: svc's eth0 has %q (exit %d), want %s", when, r.Stdout, r.Code, svcMAC)
	}
	if got := lab.MustExec(t, "docker01", "docker inspect -f '{{.NetworkSettings.Networks.mac_net10.MacAddress}}' svc"); strings.TrimSpace(got) != svcMAC {
		t.Errorf("%s: docker says svc has %s, want %s", when, got, svcMAC)
	}
}
