package labtest

import (
	"os"
	"strings"
	"testing"
)

// setLabEnv passes the options that testbed/lab reads from its environment
// and runOutside does not set itself: the lab is started with this
// process's environment.
func (o Options) setLabEnv() {
	if len(o.NoSFTP) > 0 {
		os.Setenv("MVLAB_NO_SFTP", strings.Join(o.NoSFTP, " "))
	}
}

// RunSSH runs the real OpenSSH client to addr with extra options and
// arguments after the destination (e.g. "-s", "sftp"), stdin empty.
func (l *Lab) RunSSH(t testing.TB, addr string, args ...string) Result {
	t.Helper()
	return l.run(t, "ssh", append(l.SSHArgs(addr), args...)...)
}
