package inventory

import "testing"

func TestProblemString(t *testing.T) {
	tests := []struct {
		p    Problem
		want string
	}{
		{Problem{File: "inv.toml", Line: 7, Key: "ssh.port", Value: "0", Msg: "out of range"}, "inv.toml:7: ssh.port = 0: out of range"},
		{Problem{File: "inv.toml", Line: 7, Key: "host[2].name", Msg: "missing"}, "inv.toml:7: host[2].name: missing"},
		{Problem{File: "inv.toml", Msg: "no [[host]]"}, "inv.toml: no [[host]]"},
		{Problem{Line: 3, Key: "a", Value: `""`, Msg: "must not be empty"}, `line 3: a = "": must not be empty`},
		{Problem{Msg: "bare"}, "bare"},
	}
	for _, tt := range tests {
		if got := tt.p.String(); got != tt.want {
			t.Errorf("String() = %q, want %q", got, tt.want)
		}
	}
}

func TestProblemsError(t *testing.T) {
	ps := Problems{{File: "a", Line: 1, Msg: "one"}, {File: "a", Line: 2, Msg: "two"}}
	if got, want := ps.Error(), "a:1: one\na:2: two"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}
