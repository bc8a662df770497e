package runner

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/mvorch/mvorch/inventory"
	"github.com/mvorch/mvorch/runner/udiff"
	"github.com/mvorch/mvorch/steps"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// rhelDockerUnit is docker-ce's unit on a RHEL 7 host, as the article edits it.
const rhelDockerUnit = `[Unit]
Description=Docker Application Container Engine
After=network-online.target firewalld.service
Wants=network-online.target

[Service]
Type=notify
ExecStart=/usr/bin/dockerd -H fd:// --containerd=/run/containerd/containerd.sock
ExecReload=/bin/kill -s HUP $MAINPID
Restart=always

[Install]
WantedBy=multi-user.target
`

// freshHost is an article host before the procedure: ens33 up, docker
// running with busybox (and registry on docker01), 8021q available.
func freshHost(name string, registry bool) *steps.Facts {
	f := &steps.Facts{
		Host: name, Hostname: name, Mod8021qAvail: true, NetworkScripts: true, Net: steps.NetTools{Ifup: true},
		Links: map[string]*steps.Link{
			"lo":    {Name: "lo", Up: true},
			"ens33": {Name: "ens33", Up: true},
		},
		Files: map[string]*steps.File{steps.UnitFile: {Data: []byte(rhelDockerUnit), Mode: 0o644}},
		Docker: steps.Docker{Installed: true, Active: true,
			Networks:   map[string]*steps.DockerNetwork{"bridge": {Name: "bridge", Driver: "bridge"}},
			Containers: map[string]*steps.DockerContainer{},
			Images:     map[string]string{"busybox:latest": "sha256:b1"},
		},
	}
	if registry {
		f.Docker.Images["registry:latest"] = "sha256:r1"
	}
	return f
}

func articlePlan(t *testing.T) *steps.Plan {
	t.Helper()
	inv, err := inventory.Load("../inventory.toml.example")
	if err != nil {
		t.Fatal(err)
	}
	facts := map[string]*steps.Facts{"docker01": freshHost("docker01", true), "docker02": freshHost("docker02", false)}
	p, err := steps.Build(inv, facts)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./runner -run Golden -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test ./runner -update rewrites it):\n%s", name,
			udiff.Unified("golden", "got", want, got, 3))
	}
}

// The plan text for the article's section 4.2 on fresh hosts is pinned.
func TestGoldenPlanArticle42(t *testing.T) {
	var buf bytes.Buffer
	WritePlanText(&buf, articlePlan(t), false)
	golden(t, "article-4.2.plan", buf.Bytes())
}

// plan --output json keeps its contract shape.
func TestGoldenPlanJSONArticle42(t *testing.T) {
	var buf bytes.Buffer
	if err := WritePlanJSON(&buf, articlePlan(t)); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Summary map[string]int
		Changes []map[string]any
	}
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Summary["add"] != 23 || doc.Summary["change"] != 4 || doc.Summary["remove"] != 0 {
		t.Errorf("summary %v", doc.Summary)
	}
	for _, ch := range doc.Changes {
		for _, k := range []string{"step", "host", "action", "target"} {
			if _, ok := ch[k]; !ok {
				t.Errorf("change without %q: %v", k, ch)
			}
		}
	}
	golden(t, "article-4.2.plan.json", buf.Bytes())
}

// Planning the same facts twice gives the same plan: no map order leaks.
func TestPlanIsDeterministic(t *testing.T) {
	var a, b bytes.Buffer
	for i := 0; i < 20; i++ {
		a.Reset()
		WritePlanText(&a, articlePlan(t), false)
		if i > 0 && !bytes.Equal(a.Bytes(), b.Bytes()) {
			t.Fatalf("plan %d differs from plan 0", i)
		}
		b.Reset()
		b.Write(a.Bytes())
	}
}
