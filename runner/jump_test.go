package runner

import (
	"reflect"
	"testing"
)

func TestParseJump(t *testing.T) {
	got, err := parseJump("admin@bastion.example.com, inner:2222,[2001:db8::1]:22")
	want := []hop{{User: "admin", Host: "bastion.example.com"}, {Host: "inner", Port: 2222}, {Host: "2001:db8::1", Port: 22}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("parseJump: %+v, %v", got, err)
	}
	for _, bad := range []string{"", "a,,b", "host:99999", "-oProxyCommand=x", "a b", "u@h;rm"} {
		if _, err := parseJump(bad); err == nil {
			t.Errorf("parseJump(%q) accepted", bad)
		}
	}
}
