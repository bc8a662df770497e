package inventory

import (
	"errors"
	"io/fs"
	"strings"
	"testing"
)

func TestShippedExamplesLoad(t *testing.T) {
	for _, path := range []string{"../inventory.toml.example", "../examples/section-4.1.toml", "testdata/base.toml"} {
		if _, err := Load(path); err != nil {
			t.Errorf("%s:\n%v", path, err)
		}
	}
}

// The article's section 4.2 as it was written has two mistakes: docker02
// starts bbox10 and bbox20 with docker01's addresses on the same layer-2
// segments, and uses 192.168.1.11/busybox:v1, without the registry port.
// Both must be reported, each with its file and line.
func TestArticleMistakes(t *testing.T) {
	const path = "testdata/article-4.2-as-written.toml"
	_, err := Load(path)
	var ps Problems
	if !errors.As(err, &ps) {
		t.Fatalf("Load = %v, want Problems", err)
	}
	want := []string{
		path + `:66: container[3].ip = "172.16.10.10": already used by bbox10 on docker01 (container[1], line 48) in mac_net10; a network is one layer-2 segment across all hosts, so each container needs its own address, like 172.16.10.11`,
		path + `:67: container[3].image = "192.168.1.11/busybox:v1": names the registry 192.168.1.11 (docker01) without its port 5000, so docker would try 192.168.1.11:443; write "192.168.1.11:5000/busybox:v1", or just the [[image]] tag "busybox:v1"`,
		path + `:73: container[4].ip = "172.16.20.20": already used by bbox20 on docker01 (container[2], line 55) in mac_net20; a network is one layer-2 segment across all hosts, so each container needs its own address, like 172.16.20.21`,
		path + `:74: container[4].image = "192.168.1.11/busybox:v1": names the registry 192.168.1.11 (docker01) without its port 5000, so docker would try 192.168.1.11:443; write "192.168.1.11:5000/busybox:v1", or just the [[image]] tag "busybox:v1"`,
	}
	if got := ps.Error(); got != strings.Join(want, "\n") {
		t.Errorf("problems:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
	}
	// The same as data, for callers that print their own way.
	first := Problem{File: path, Line: 66, Key: "container[3].ip", Value: `"172.16.10.10"`, Msg: ps[0].Msg}
	if ps[0] != first {
		t.Errorf("first problem = %#v, want %#v", ps[0], first)
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load("testdata/no-such-file.toml")
	var ps Problems
	if !errors.Is(err, fs.ErrNotExist) || errors.As(err, &ps) {
		t.Errorf("Load = %v, want a not-exist error that is no Problems", err)
	}
}
