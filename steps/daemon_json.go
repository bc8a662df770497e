package steps

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"
)

// The keys of daemon.json that mvorch sets. Both are reloadable: dockerd
// applies them on SIGHUP (systemctl reload docker), but only when the key is
// in the file: a key taken out leaves the running dockerd as it was.
const (
	keyInsecure    = "insecure-registries"
	keyLiveRestore = "live-restore"
)

// parseJSONDoc reads a daemon.json document; empty or blank is an empty
// document. Numbers are kept as written.
func parseJSONDoc(data []byte) (map[string]any, error) {
	doc := map[string]any{}
	if len(bytes.TrimSpace(data)) == 0 {
		return doc, nil
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		return nil, err
	}
	if doc == nil {
		return nil, fmt.Errorf("not a JSON object")
	}
	return doc, nil
}

// jsonStrings reads a JSON array of strings; ok is false for anything else.
func jsonStrings(v any) (list []string, ok bool) {
	switch v := v.(type) {
	case []string:
		return v, true
	case []any:
		for _, e := range v {
			s, ok := e.(string)
			if !ok {
				return nil, false
			}
			list = append(list, s)
		}
		return list, true
	}
	return nil, false
}

// liveRestoreByMvorch: daemon.json says "live-restore": true, and the file
// as it was before mvorch first changed it did not have the key.
func (f *Facts) liveRestoreByMvorch() bool {
	cur, err := parseJSONDoc(f.fileData(DaemonJSON))
	if err != nil || cur[keyLiveRestore] != true {
		return false
	}
	for _, e := range f.live() {
		for _, op := range e.Begin.Undo {
			if op.Path != DaemonJSON {
				continue
			}
			if op.Kind == OpRemove {
				return true
			}
			orig, err := parseJSONDoc(op.Data)
			_, had := orig[keyLiveRestore]
			return err == nil && !had
		}
	}
	return false
}

func (f *Facts) fileData(path string) []byte {
	if file := f.Files[path]; file != nil {
		return file.Data
	}
	return nil
}

// ReloadDefaults is what an OpReloadDocker writes into daemon.json for the
// moment of the reload when the file lacks the key: each key's default,
// spelled out, so that the reload resets what a key taken out had set (as a
// restart would). A key that dockerd's command line sets is left out: dockerd
// refuses a key set both ways.
func (c *Context) reloadDefaults() []byte {
	exec := unitExecStart(c.Facts.Files, "")
	doc := map[string]any{}
	if !setsFlag(exec, "--insecure-registry") {
		doc[keyInsecure] = []string{}
	}
	if !setsFlag(exec, "--live-restore") {
		doc[keyLiveRestore] = false
	}
	if len(doc) == 0 {
		return nil
	}
	data, _ := json.Marshal(doc)
	return data
}

// SpelledOut returns daemon.json (cur) with the keys of defaults it lacks
// added, and those whose default is null taken out, or nil when that
// changes nothing or cur cannot be read (the reload then reads it as it is,
// and its check says what did not take).
func SpelledOut(cur, defaults []byte) []byte {
	doc, err := parseJSONDoc(cur)
	def, derr := parseJSONDoc(defaults)
	if err != nil || derr != nil {
		return nil
	}
	if !withDefaults(doc, def) {
		return nil
	}
	out, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil
	}
	return append(out, '\n')
}

// withDefaults adds to doc the keys of def it lacks and takes out those
// whose value in def is null; it reports whether doc changed.
func withDefaults(doc, def map[string]any) bool {
	changed := false
	for k, v := range def {
		_, has := doc[k]
		switch {
		case v == nil && has:
			delete(doc, k)
			changed = true
		case v != nil && !has:
			doc[k] = v
			changed = true
		}
	}
	return changed
}

// ReloadMismatch compares what docker's API says (GET /info) with what
// daemon.json (the file dockerd just reloaded) means for the keys mvorch
// sets, a key it lacks counting at its value in defaults (see
// reloadDefaults: what a restart would give), and says what differs (""
// when nothing does). addr is the registry mvorch trusts: it must be
// insecure exactly when the list names it.
func ReloadMismatch(info, daemonJSON, defaults []byte, addr string) string {
	var in apiInfo
	if err := json.Unmarshal(info, &in); err != nil {
		return "docker's API answered GET /info with something unreadable: " + err.Error()
	}
	doc, err := parseJSONDoc(daemonJSON)
	if err != nil {
		return DaemonJSON + " is not valid JSON: " + err.Error()
	}
	if def, err := parseJSONDoc(defaults); err == nil {
		withDefaults(doc, def)
	}
	var bad []string
	if list, ok := jsonStrings(doc[keyInsecure]); ok {
		for _, a := range list {
			if !insecureIn(in, a) {
				bad = append(bad, a+" is not trusted")
			}
		}
		if addr != "" && !containsStr(list, addr) && insecureIn(in, addr) {
			bad = append(bad, addr+" is still trusted")
		}
	}
	if v, ok := doc[keyLiveRestore].(bool); ok && v != in.LiveRestoreEnabled {
		bad = append(bad, fmt.Sprintf("live-restore is %v", in.LiveRestoreEnabled))
	}
	if len(bad) == 0 {
		return ""
	}
	return "docker's API (GET /info) says " + strings.Join(bad, ", ") + ", unlike " + DaemonJSON
}

// insecureIn: docker trusts registry (host:port, or a CIDR) over plain HTTP.
func insecureIn(in apiInfo, registry string) bool {
	if p, err := netip.ParsePrefix(registry); err == nil {
		return containsStr(in.RegistryConfig.InsecureRegistryCIDRs, p.Masked().String())
	}
	if ic, ok := in.RegistryConfig.IndexConfigs[registry]; ok {
		return !ic.Secure
	}
	return false
}

// KeepLiveRestore returns daemon.json (cur, as a rollback put it back) with
// "live-restore": true, for the restart a rollback makes while the running
// dockerd has live-restore on: a dockerd that starts without it stops the
// containers the old one left running. nil when there is no need (live-restore
// is off, or cur says it already, or a flag sets it) or cur cannot be read.
func KeepLiveRestore(f *Facts, cur []byte) []byte {
	if !f.Docker.LiveRestore || setsFlag(unitExecStart(f.Files, ""), "--live-restore") {
		return nil
	}
	doc, err := parseJSONDoc(cur)
	if err != nil || doc[keyLiveRestore] == true {
		return nil
	}
	doc[keyLiveRestore] = true
	out, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil
	}
	return append(out, '\n')
}

// liveRestoreFirst is the data of the reload that turns live-restore on
// ahead of a restart: insecure-registries is left out for that moment, since
// the running dockerd may still have it as a flag (the restart that follows
// changes its flags), and dockerd refuses a key set both ways.
var liveRestoreFirst = []byte(`{"insecure-registries": null}`)

// LiveRestoreOff is the reload data that turns live-restore off in a running
// dockerd whose daemon.json does not name it (see OpReloadDocker).
var LiveRestoreOff = []byte(`{"live-restore": false}`)
