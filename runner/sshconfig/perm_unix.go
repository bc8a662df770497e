//go:build unix

package sshconfig

import (
	"fmt"
	"os"
	"syscall"
)

// checkPerms is ssh's check on a user config and its Includes: the file must
// be owned by the user or root and not writable by group or others, since
// whoever can write it decides which keys, jump hosts and host-key policy
// mvorch uses.
func checkPerms(f *os.File, name string) error {
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	badOwner := false
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		badOwner = st.Uid != 0 && int(st.Uid) != os.Getuid()
	}
	if badOwner || fi.Mode().Perm()&0o022 != 0 {
		return fmt.Errorf("bad owner or permissions on %s (must be owned by you or root and not writable by group or others)", name)
	}
	return nil
}
