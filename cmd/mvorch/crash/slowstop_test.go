package crash_test

import (
	"testing"

	"github.com/mvorch/mvorch/testbed/labtest"
)

// slowDockerRestart makes docker restarts on every host take about 3 s, so
// that a signal or a kill can land in the middle of one: a container whose
// PID 1 ignores SIGTERM (busybox sleep) with a 3 s stop timeout holds
// dockerd's shutdown for that long. (With real systemd and an idle dockerd a
// restart takes about 0.6 s on the lab.) The container has restart=always,
// so it runs again after each restart, and no network (no veth whose name
// changes at each start), so the hosts' snapshots taken after this call stay
// comparable. It is removed when the test ends.
func slowDockerRestart(t *testing.T, lab *labtest.Lab) {
	t.Helper()
	for _, h := range lab.Hosts {
		lab.MustExec(t, h.Name, "docker rm -f crash-slowstop >/dev/null 2>&1; "+
			"docker run -d --name crash-slowstop --network none --restart=always --stop-timeout 3 busybox:latest sleep 1000000 >/dev/null")
	}
	t.Cleanup(func() {
		for _, h := range lab.Hosts {
			lab.Exec(t, h.Name, "docker rm -f crash-slowstop")
		}
	})
}
