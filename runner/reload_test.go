package runner

import "testing"

// dockerd's rejection of daemon.json counts only after its last reload signal.
func TestRefusal(t *testing.T) {
	const sig = `time="t1" level=info msg="Got signal to reload configuration, reloading from: /etc/docker/daemon.json"`
	const bad = `time="t2" level=error msg="unable to configure the Docker daemon with file /etc/docker/daemon.json: the following directives are specified both as a flag and in the configuration file: insecure-registries: (from flag: [a:1], from file: [b:2])"`
	cases := []struct{ name, log, want string }{
		{"refused", sig + "\n" + bad, "unable to configure the Docker daemon with file /etc/docker/daemon.json: the following directives are specified both as a flag and in the configuration file: insecure-registries: (from flag: [a:1], from file: [b:2])"},
		{"an older refusal", bad + "\n" + sig + "\n" + `time="t3" level=info msg="Reloaded configuration: {}"`, ""},
		{"no log", "", ""},
	}
	for _, c := range cases {
		if got := refusal(c.log); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}
