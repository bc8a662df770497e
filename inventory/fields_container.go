package inventory

import (
	"fmt"
	"path"
	"regexp"
	"slices"
	"sort"
	"strings"
)

// The optional keys of a [[container]] (command, env, volumes, ...): how
// each is read and what each value may hold. Their values reach hosts as
// arguments of docker run, each quoted as one shell word by runner/sh, so
// unlike names they may hold spaces, quotes, '$' and newlines; only a NUL
// byte cannot travel in a shell command.

var (
	envNameRe  = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	labelKeyRe = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9_.-]*[A-Za-z0-9])?$`)
	macRe      = regexp.MustCompile(`^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}$`)
	// An RFC 1123 host name: labels of letters, digits and inner '-'.
	containerHostRe = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$`)
	// docker's pattern for a named volume.
	volumeNameRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]+$`)
)

// ReservedLabelPrefix starts the labels mvorch sets on what it makes; an
// inventory may not set them itself.
const ReservedLabelPrefix = "io.mvorch."

// capabilities are the Linux capabilities docker run --cap-add takes, as
// docker names them (without CAP_), and ALL.
var capabilities = []string{
	"ALL", "AUDIT_CONTROL", "AUDIT_READ", "AUDIT_WRITE", "BLOCK_SUSPEND", "BPF", "CHECKPOINT_RESTORE",
	"CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "IPC_LOCK", "IPC_OWNER", "KILL",
	"LEASE", "LINUX_IMMUTABLE", "MAC_ADMIN", "MAC_OVERRIDE", "MKNOD", "NET_ADMIN", "NET_BIND_SERVICE",
	"NET_BROADCAST", "NET_RAW", "PERFMON", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYSLOG",
	"SYS_ADMIN", "SYS_BOOT", "SYS_CHROOT", "SYS_MODULE", "SYS_NICE", "SYS_PACCT", "SYS_PTRACE",
	"SYS_RAWIO", "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "WAKE_ALARM",
}

// checkArg is for free text that docker gets as one argument: anything
// but a NUL byte.
func checkArg(s string) string {
	if strings.IndexByte(s, 0) >= 0 {
		return "must not contain a NUL byte (U+0000): a remote command cannot carry it"
	}
	return ""
}

func checkEnvName(s string) string {
	if envNameRe.MatchString(s) {
		return ""
	}
	return "not a valid environment variable name: use letters, digits and '_', not starting with a digit"
}

func checkLabelKey(s string) string {
	switch {
	case strings.HasPrefix(strings.ToLower(s), ReservedLabelPrefix):
		return fmt.Sprintf("labels starting with %q are mvorch's own; pick another key", ReservedLabelPrefix)
	case len(s) > 128:
		return fmt.Sprintf("is %d characters; mvorch allows label keys of at most 128", len(s))
	case !labelKeyRe.MatchString(s):
		return "not a valid label key: use letters, digits, '_', '.' and '-', starting and ending with a letter or digit, like com.example.role"
	}
	return ""
}

// checkMAC: a container's own address must be unicast (the low bit of
// the first octet clear) and not all zeros.
func checkMAC(s string) string {
	if !macRe.MatchString(s) {
		return `not a MAC address: write six two-digit hex numbers separated by ':', like "02:42:ac:10:0a:0a"`
	}
	var first int
	fmt.Sscanf(s[:2], "%x", &first)
	switch {
	case first&1 == 1:
		return fmt.Sprintf("is a multicast address (the first octet %s is odd); a container needs a unicast address, like 02%s", s[:2], s[2:])
	case strings.Trim(s, "0:") == "":
		return "the all-zero address is no interface's; pick a unicast address, like 02:00:00:00:00:01"
	}
	return ""
}

func checkContainerHostname(s string) string {
	if msg := firstProblem(unsafeText(s), tooLong(s, 63, "a container's host name is")); msg != "" || containerHostRe.MatchString(s) {
		return msg
	}
	return "not a valid host name: use letters, digits and '-' (not first or last), in parts separated by '.'"
}

func checkCap(s string) string {
	if slices.Contains(capabilities, s) {
		return ""
	}
	if name, ok := strings.CutPrefix(strings.ToUpper(s), "CAP_"); ok && slices.Contains(capabilities, name) {
		return fmt.Sprintf("write %q, as docker names it (without CAP_)", name)
	}
	if slices.Contains(capabilities, strings.ToUpper(s)) {
		return fmt.Sprintf("write %q, in capitals", strings.ToUpper(s))
	}
	return "not a Linux capability docker knows; write one like NET_ADMIN or NET_RAW"
}

func checkDNS(s string) string {
	_, msg := parseIPv4(s)
	return msg
}

// checkVolume checks SRC:DST[:ro]: SRC an absolute host path or a named
// volume, DST an absolute path in the container.
func checkVolume(s string) string {
	if msg := checkArg(s); msg != "" {
		return msg
	}
	parts := strings.Split(s, ":")
	if len(parts) < 2 || len(parts) > 3 {
		return `must be SRC:DST or SRC:DST:ro, like "/srv/data:/data:ro" or "dbdata:/var/lib/db" (a path may not hold ':')`
	}
	src, dst := parts[0], parts[1]
	if len(parts) == 3 && parts[2] != "ro" {
		return fmt.Sprintf("the mode %q is not ro; write SRC:DST:ro for read-only, or SRC:DST", parts[2])
	}
	if msg := volumePath("the container path", dst); msg != "" {
		return msg
	}
	if dst == "/" {
		return "the container path must not be /"
	}
	if strings.HasPrefix(src, "/") {
		return volumePath("the host path", src)
	}
	if strings.HasPrefix(src, ".") || strings.Contains(src, "/") {
		return fmt.Sprintf("the host path %q is relative; write it from /, or a volume name without '/'", src)
	}
	if !volumeNameRe.MatchString(src) {
		return fmt.Sprintf("%q is not a volume name: use at least 2 letters, digits, '_', '.' or '-', starting with a letter or digit (or write a host path from /)", src)
	}
	return ""
}

func volumePath(what, p string) string {
	switch {
	case !strings.HasPrefix(p, "/"):
		return fmt.Sprintf("%s %q must be absolute (start with /)", what, p)
	case path.Clean(p) != p:
		return fmt.Sprintf("%s %q is not in its plain form; write %q", what, p, path.Clean(p))
	}
	for _, r := range p {
		if r < 0x20 || r == 0x7f {
			return fmt.Sprintf("%s must not contain control characters (here %s)", what, runeCode(r))
		}
	}
	return ""
}

// command reads the arguments after the image; an empty list would mean the
// image's own command, which leaving the key out says.
func (t *table) command(name string) []string {
	cmd := t.strList(name, "", checkArg, false)
	if cmd != nil && len(cmd) == 0 {
		t.d.report(t.key(name), nil, "must not be empty; leave command out to run the image's own")
	}
	return cmd
}

// entrypoint reads entrypoint = ["PROGRAM"]: docker run sets an entrypoint
// of one program (--entrypoint), so arguments belong in command.
func (t *table) entrypoint(name string) []string {
	ep := t.strList(name, "", checkArg, false)
	switch {
	case ep == nil:
		return nil
	case len(ep) == 0:
		t.d.report(t.key(name), nil, "must not be empty; leave entrypoint out to use the image's own")
	case len(ep) > 1:
		t.d.report(t.key(name), nil, fmt.Sprintf("docker run sets an entrypoint of one program; write entrypoint = [%q] and put the rest first in command", ep[0]))
	case ep[0] == "":
		t.d.report(indexKey(t.key(name), 1), "", "must not be empty; write the program to run, like /bin/sh")
	}
	return ep
}

// volumes reads volumes = ["SRC:DST[:ro]", ...]; two volumes may not share
// a container path.
func (t *table) volumes(name string) []string {
	vols := t.strList(name, "", checkVolume, true)
	seen := map[string]int{}
	for i, v := range vols {
		if checkVolume(v) != "" {
			continue
		}
		dst := strings.Split(v, ":")[1]
		if j, ok := seen[dst]; ok {
			t.d.report(indexKey(t.key(name), i+1), v, fmt.Sprintf("item %d of volumes is mounted at %s already; each container path takes one volume", j+1, dst))
			continue
		}
		seen[dst] = i
	}
	return vols
}

// strTable reads a table of strings, checking keys and values.
func (t *table) strTable(name string, checkKey, checkValue func(string) string) map[string]string {
	v, ok := t.get(name)
	if !ok {
		return nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		t.wrongType(name, v, "a table", fmt.Sprintf(`write %s = { KEY = "value", ... }`, name))
		return nil
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make(map[string]string, len(m))
	for _, k := range keys {
		key := joinKey(t.key(name), k)
		s, ok := m[k].(string)
		if !ok {
			t.d.report(key, m[k], fmt.Sprintf("must be a string, not %s: write %s = \"...\", with quotes", typeName(m[k]), joinKey("", k)))
			continue
		}
		if msg := checkKey(k); msg != "" {
			t.d.report(key, nil, msg)
		} else if msg := checkValue(s); msg != "" {
			t.d.report(key, s, msg)
		}
		out[k] = s
	}
	return out
}
