package steps

import (
	"sort"
	"strings"
)

// unitExecStart returns the ExecStart systemd would run for docker.service
// given these files: the unit (/etc overrides /usr/lib), then the drop-ins in
// lexical order, where an empty "ExecStart=" resets and the last one wins.
// skip names a drop-in to leave out (mvorch's own, when asking what the
// command line would be without it).
func unitExecStart(files map[string]*File, skip string) string {
	return unitValue(files, "ExecStart", skip)
}

// unitValue is unitExecStart for any single-valued key of docker.service.
func unitValue(files map[string]*File, key, skip string) string {
	unit := files[EtcUnitFile]
	if unit == nil {
		unit = files[UnitFile]
	}
	v := ""
	if unit != nil {
		v = lastValue(string(unit.Data), key, v)
	}
	for _, p := range dropIns(files) {
		if p != skip {
			v = lastValue(string(files[p].Data), key, v)
		}
	}
	return v
}

func dropIns(files map[string]*File) []string {
	var out []string
	for p := range files {
		if strings.HasPrefix(p, DropInDir+"/") && strings.HasSuffix(p, ".conf") {
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}

// lastExecStart applies one file's ExecStart lines (continuations joined) to cur.
func lastExecStart(text, cur string) string { return lastValue(text, "ExecStart", cur) }

func lastValue(text, key, cur string) string {
	for _, line := range logicalLines(text) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), key+"="); ok {
			cur = strings.TrimSpace(v)
		}
	}
	return cur
}

func logicalLines(text string) []string {
	var out []string
	var b strings.Builder
	for _, l := range strings.Split(text, "\n") {
		if strings.HasSuffix(l, `\`) {
			b.WriteString(strings.TrimSuffix(l, `\`) + " ")
			continue
		}
		b.WriteString(l)
		out = append(out, b.String())
		b.Reset()
	}
	return out
}

// trustsFlag reports whether a dockerd command line trusts addr.
func trustsFlag(cmdline, addr string) bool {
	f := strings.Fields(cmdline)
	for i, w := range f {
		if w == "--insecure-registry="+addr || (w == "--insecure-registry" && i+1 < len(f) && f[i+1] == addr) {
			return true
		}
	}
	return false
}

func hasInsecureFlag(cmdline string) bool { return setsFlag(cmdline, "--insecure-registry") }

// setsFlag reports whether a dockerd command line sets flag (--name or --name=...).
func setsFlag(cmdline, flag string) bool {
	for _, w := range strings.Fields(cmdline) {
		if w == flag || strings.HasPrefix(w, flag+"=") {
			return true
		}
	}
	return false
}
