package steps

import (
	"encoding/json"
	"strings"
	"testing"
)

const reloadableUnit = "[Service]\nExecStart=/usr/bin/dockerd -H fd://\nExecReload=/bin/kill -s HUP $MAINPID\n"

// planTrust plans registry-trust and docker-restart for docker02 of the
// article's inventory with the given method, returning both steps' changes.
func planTrust(t *testing.T, method string, live bool, edit func(f *Facts)) (trust, apply []*Change) {
	t.Helper()
	inv := articleInventory(t)
	inv.Registry.Trust, inv.Registry.LiveRestore = method, live
	f := okFacts("docker02")
	f.Files[UnitFile].Data = []byte(reloadableUnit)
	f.Docker.Version = "20.10.24+dfsg1"
	f.Docker.Containers["web"] = &DockerContainer{Name: "web", Running: true}
	if edit != nil {
		edit(f)
	}
	c := &Context{Inv: inv, Host: &inv.Hosts[1], Facts: f}
	trust, err := RegistryTrust{}.Plan(c)
	if err != nil {
		t.Fatal(err)
	}
	apply, err = DockerRestart{}.Plan(c)
	if err != nil {
		t.Fatal(err)
	}
	return trust, apply
}

func opKinds(ops []Op) string {
	var k []string
	for _, op := range ops {
		k = append(k, string(op.Kind))
	}
	return strings.Join(k, ",")
}

// What daemon.json alone changes is a reload that names no container; a
// flag is a restart that names them; and where the host cannot reload, the
// restart says why.
func TestDockerApplyReloadOrRestart(t *testing.T) {
	cases := []struct {
		name, method string
		live         bool
		edit         func(f *Facts)
		do, undo     string
		detail       string
		warning      string
	}{
		{"daemon-json reloads", TrustDaemonJSON, false, nil, "reload-docker", "reload-docker",
			"systemctl reload docker: dockerd re-reads daemon.json, no container is interrupted", ""},
		{"dropin restarts", TrustDropIn, false, nil, "restart-docker", "restart-docker",
			"systemctl daemon-reload && systemctl restart docker (dockerd's command line changed: only a restart applies it)",
			`restarting docker interrupts running containers: web (trust = "daemon-json" applies by a reload instead; live_restore = true keeps them running)`},
		{"no ExecReload", TrustDaemonJSON, false, func(f *Facts) { f.Files[UnitFile].Data = []byte("[Service]\nExecStart=/usr/bin/dockerd\n") },
			"restart-docker", "restart-docker",
			"systemctl daemon-reload && systemctl restart docker (docker.service has no ExecReload, so systemctl reload docker cannot make dockerd re-read daemon.json)",
			"restarting docker interrupts running containers: web (live_restore = true keeps them running)"},
		{"old dockerd", TrustDaemonJSON, false, func(f *Facts) { f.Docker.Version = "1.13.1" }, "restart-docker", "restart-docker",
			"(dockerd 1.13.1 predates 17.03; mvorch reloads only dockerd 17.03 and later)", "web"},
		{"dropin with live-restore", TrustDropIn, true, nil, "reload-docker,restart-docker", "restart-docker",
			"systemctl reload docker (live-restore on), then systemctl daemon-reload && systemctl restart docker (dockerd's command line changed: only a restart applies it); live-restore keeps the containers running", ""},
		{"live-restore already on", TrustUnit, true, func(f *Facts) { f.Docker.LiveRestore = true }, "restart-docker", "restart-docker",
			"live-restore keeps the containers running", ""},
		{"registry trusted by daemon.json, dockerd not yet", TrustDaemonJSON, false, func(f *Facts) {
			f.Files[DaemonJSON] = &File{Data: []byte(`{"insecure-registries": ["192.168.1.11:5000"]}`), Mode: 0o644}
		}, "reload-docker", "reload-docker", "(the configuration trusts 192.168.1.11:5000 but the running dockerd does not yet)", ""},
		{"registry trusted by a flag, dockerd not yet", TrustDropIn, false, func(f *Facts) {
			f.Files[UnitFile].Data = []byte("[Service]\nExecStart=/usr/bin/dockerd --insecure-registry 192.168.1.11:5000\nExecReload=/bin/kill -s HUP $MAINPID\n")
		}, "restart-docker", "restart-docker", "only a restart applies a command-line flag", "web"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, apply := planTrust(t, c.method, c.live, c.edit)
			if len(apply) != 1 {
				t.Fatalf("docker-restart changes: %+v", apply)
			}
			ch := apply[0]
			if c.do == "reload-docker,restart-docker" && string(ch.Do[0].Data) != string(liveRestoreFirst) {
				t.Errorf("the reload ahead of the restart spells out %s", ch.Do[0].Data)
			}
			if opKinds(ch.Do) != c.do || opKinds(ch.Undo) != c.undo {
				t.Errorf("do %s undo %s, want %s and %s", opKinds(ch.Do), opKinds(ch.Undo), c.do, c.undo)
			}
			if !strings.Contains(ch.Detail, c.detail) {
				t.Errorf("detail %q, want it to contain %q", ch.Detail, c.detail)
			}
			warn := strings.Join(ch.Warnings, "\n")
			if (c.warning == "") != (warn == "") || !strings.Contains(warn, c.warning) {
				t.Errorf("warnings %q, want %q", warn, c.warning)
			}
		})
	}
}

// A reload's operation spells out the keys no flag sets.
func TestReloadOpData(t *testing.T) {
	_, apply := planTrust(t, TrustDaemonJSON, false, nil)
	op := apply[0].Do[0]
	if op.Cmd != "systemctl reload docker" || op.Path != DaemonJSON || op.Addr != "192.168.1.11:5000" ||
		string(op.Data) != `{"insecure-registries":[],"live-restore":false}` {
		t.Errorf("op %+v data %s", op, op.Data)
	}
	// A key a flag sets is never spelled out in daemon.json.
	_, apply = planTrust(t, TrustDaemonJSON, false, func(f *Facts) {
		f.Files[UnitFile].Data = []byte(strings.Replace(reloadableUnit, "fd://", "fd:// --live-restore", 1))
	})
	if op := apply[0].Do[0]; string(op.Data) != `{"insecure-registries":[]}` {
		t.Errorf("with --live-restore on the command line: %s", op.Data)
	}
}

// daemon.json: the other keys stay, live_restore adds its key and takes it
// out again only when mvorch put it there, and switching away from
// daemon-json takes out only mvorch's registry.
func TestDaemonJSONEdits(t *testing.T) {
	own := `{"debug": true, "insecure-registries": ["10.9.9.9:5000"], "max-concurrent-downloads": 10000000000000000000001}`
	withOwn := func(f *Facts) { f.Files[DaemonJSON] = &File{Data: []byte(own), Mode: 0o600} }
	trust, _ := planTrust(t, TrustDaemonJSON, true, withOwn)
	if len(trust) != 1 || trust[0].Target != DaemonJSON {
		t.Fatalf("changes %+v", trust)
	}
	var doc map[string]any
	data := trust[0].Do[0].Data
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	if doc["debug"] != true || doc["live-restore"] != true || !strings.Contains(string(data), "10000000000000000000001") ||
		!strings.Contains(string(data), `"10.9.9.9:5000",`+"\n"+`    "192.168.1.11:5000"`) || trust[0].Do[0].Mode != 0o600 {
		t.Errorf("daemon.json:\n%s", data)
	}

	// A later run without live_restore and with the drop-in method, on a
	// host whose journal says mvorch wrote that file over the host's own
	// (without a list of its own: dockerd refuses one beside a flag).
	own = `{"debug": true}`
	trust, _ = planTrust(t, TrustDaemonJSON, true, func(f *Facts) { f.Files[DaemonJSON] = &File{Data: []byte(own), Mode: 0o600} })
	data = trust[0].Do[0].Data
	journal := func(f *Facts) {
		f.Files[DaemonJSON] = &File{Data: data, Mode: 0o600}
		rec, _ := json.Marshal(Record{Type: RecBegin, Run: "r1", Seq: 1, Step: "registry-trust", Target: DaemonJSON,
			Writes: []string{DaemonJSON}, Registry: "192.168.1.11:5000", Undo: []Op{{Kind: OpWrite, Path: DaemonJSON, Data: []byte(own), Mode: 0o600}}})
		f.Journal = append(rec, '\n')
	}
	trust, _ = planTrust(t, TrustDropIn, false, journal)
	var got string
	for _, ch := range trust {
		if ch.Target == DaemonJSON {
			got = string(ch.Do[0].Data)
		}
	}
	if got != "{\n  \"debug\": true\n}\n" {
		t.Errorf("daemon.json after switching to dropin without live_restore:\n%s", got)
	}

	// The host's own "live-restore": true is not mvorch's to take out.
	ownLive := func(f *Facts) { f.Files[DaemonJSON] = &File{Data: []byte(`{"live-restore": true}`), Mode: 0o644} }
	trust, _ = planTrust(t, TrustDropIn, false, ownLive)
	for _, ch := range trust {
		if ch.Target == DaemonJSON {
			t.Errorf("the host's own live-restore changed: %s", ch.Diff)
		}
	}
}

func TestLiveRestoreRefusedInSwarm(t *testing.T) {
	inv := articleInventory(t)
	inv.Registry.LiveRestore = true
	f := okFacts("docker02")
	f.Docker.Swarm = true
	_, err := RegistryTrust{}.Plan(&Context{Inv: inv, Host: &inv.Hosts[1], Facts: f})
	if err == nil || !strings.Contains(err.Error(), "docker02 is in a swarm") {
		t.Errorf("err = %v", err)
	}
}

func TestReloadMismatch(t *testing.T) {
	info := func(lr bool, insecure ...string) []byte {
		ic := map[string]any{"docker.io": map[string]any{"Secure": true}}
		for _, a := range insecure {
			ic[a] = map[string]any{"Secure": false}
		}
		b, _ := json.Marshal(map[string]any{"ServerVersion": "20.10", "LiveRestoreEnabled": lr,
			"RegistryConfig": map[string]any{"IndexConfigs": ic, "InsecureRegistryCIDRs": []string{"10.0.0.0/8", "127.0.0.0/8"}}})
		return b
	}
	const reg = "198.51.100.11:5000"
	def := []byte(`{"insecure-registries":[],"live-restore":false}`)
	cases := []struct {
		name       string
		info, file []byte
		want       string
	}{
		{"took", info(false, reg), []byte(`{"insecure-registries": ["198.51.100.11:5000", "10.0.0.0/8"]}`), ""},
		{"not yet", info(false), []byte(`{"insecure-registries": ["198.51.100.11:5000"]}`), "198.51.100.11:5000 is not trusted"},
		{"undone", info(false), []byte(`{"insecure-registries": []}`), ""},
		{"still trusted", info(false, reg), []byte(`{"insecure-registries": [], "live-restore": false}`), "198.51.100.11:5000 is still trusted"},
		{"no key, and a flag may set it: nothing to say about the list", info(false, reg), []byte(`{}`), ""},
		{"no key, and no flag sets it: the default", info(false, reg), []byte(`{}`), "198.51.100.11:5000 is still trusted"},
		{"no file, live-restore on", info(true), nil, "live-restore is true"},
		{"live-restore", info(false, reg), []byte(`{"live-restore": true}`), "live-restore is false"},
		{"CIDR missing", info(false), []byte(`{"insecure-registries": ["10.1.0.0/16"]}`), "10.1.0.0/16 is not trusted"},
		{"bad info", []byte(`<html>`), []byte(`{}`), "unreadable"},
	}
	for _, c := range cases {
		d := def
		if strings.Contains(c.name, "a flag may set it") {
			d = nil
		}
		got := ReloadMismatch(c.info, c.file, d, reg)
		if (c.want == "") != (got == "") || !strings.Contains(got, c.want) {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}

func TestSpelledOutAndKeepLiveRestore(t *testing.T) {
	def := []byte(`{"insecure-registries":[],"live-restore":false}`)
	if got := SpelledOut([]byte(`{"insecure-registries": ["a:1"], "live-restore": true}`), def); got != nil {
		t.Errorf("nothing lacking, yet %s", got)
	}
	got := string(SpelledOut(nil, def))
	if got != "{\n  \"insecure-registries\": [],\n  \"live-restore\": false\n}\n" {
		t.Errorf("absent file spelled out: %q", got)
	}
	if got := string(SpelledOut([]byte(`{"debug": true, "live-restore": true}`), def)); !strings.Contains(got, `"live-restore": true`) || !strings.Contains(got, `"insecure-registries": []`) {
		t.Errorf("a key present is kept: %s", got)
	}
	if got := string(SpelledOut([]byte(`{"insecure-registries": ["a:1"], "live-restore": true}`), liveRestoreFirst)); got != "{\n  \"live-restore\": true\n}\n" {
		t.Errorf("null takes a key out: %q", got)
	}
	if SpelledOut([]byte(`{"live-restore": true}`), liveRestoreFirst) != nil {
		t.Errorf("nothing to take out, yet spelled out")
	}
	if SpelledOut([]byte(`{broken`), def) != nil {
		t.Errorf("unreadable file spelled out")
	}

	f := okFacts("h")
	if KeepLiveRestore(f, nil) != nil {
		t.Errorf("live-restore off in dockerd: nothing to keep")
	}
	f.Docker.LiveRestore = true
	if got := string(KeepLiveRestore(f, []byte(`{"debug":true}`))); got != "{\n  \"debug\": true,\n  \"live-restore\": true\n}\n" {
		t.Errorf("keep: %q", got)
	}
	f.Files[UnitFile].Data = []byte("[Service]\nExecStart=/usr/bin/dockerd --live-restore\n")
	if KeepLiveRestore(f, nil) != nil {
		t.Errorf("a flag sets live-restore: the file must not")
	}
}
