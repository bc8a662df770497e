package steps

import (
	"bufio"
	"bytes"
	"encoding/json"
	"strconv"
)

// Journal record types. A change is recorded ("begin", with what undoes it)
// and synced before it is made, then marked "done"; rollback marks it "undone".
const (
	RecBegin  = "begin"
	RecDone   = "done"
	RecUndone = "undone"
)

// Record is one line of /var/lib/mvorch/journal.jsonl.
type Record struct {
	Type   string `json:"type"`
	Run    string `json:"run"`
	Seq    int    `json:"seq"`
	Time   string `json:"time,omitempty"`
	Step   string `json:"step,omitempty"`
	Action Action `json:"action,omitempty"`
	Target string `json:"target,omitempty"`
	// Writes are the paths the change writes or removes.
	Writes []string `json:"writes,omitempty"`
	// Registry is the registry address a trust change was for.
	Registry string `json:"registry,omitempty"`
	Undo     []Op   `json:"undo,omitempty"`
	// By says who made the change: user@machine and pid of mvorch.
	By string `json:"by,omitempty"`
}

// Entry is one change as the journal tells it.
type Entry struct {
	Begin  Record
	Done   bool
	Undone bool
}

// ParseJournal reads a journal; lines it cannot read (a line cut short by a
// crash) are skipped.
func ParseJournal(data []byte) []*Entry {
	var entries []*Entry
	byKey := map[string]*Entry{}
	key := func(r Record) string { return r.Run + "/" + strconv.Itoa(r.Seq) }
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		var r Record
		if json.Unmarshal(sc.Bytes(), &r) != nil {
			continue
		}
		switch r.Type {
		case RecBegin:
			e := &Entry{Begin: r}
			entries = append(entries, e)
			byKey[key(r)] = e
		case RecDone:
			if e := byKey[key(r)]; e != nil {
				e.Done = true
			}
		case RecUndone:
			if e := byKey[key(r)]; e != nil {
				e.Undone = true
			}
		}
	}
	return entries
}

// Live are the entries not rolled back, oldest first.
func Live(entries []*Entry) []*Entry {
	var out []*Entry
	for _, e := range entries {
		if !e.Undone {
			out = append(out, e)
		}
	}
	return out
}

// live is the host's journal entries not rolled back, parsed once: every
// step that asks what mvorch made reads the same entries.
func (f *Facts) live() []*Entry {
	if !f.journalParsed {
		f.liveEntries = Live(ParseJournal(f.Journal))
		f.journalParsed = true
	}
	return f.liveEntries
}

// managedPaths are the files mvorch wrote and has not rolled back.
func (f *Facts) managedPaths() map[string]bool {
	m := map[string]bool{}
	for _, e := range f.live() {
		for _, p := range e.Begin.Writes {
			m[p] = true
		}
	}
	return m
}

// createdByMvorch: the oldest live change to path found no file there.
func (f *Facts) createdByMvorch(path string) bool {
	for _, e := range f.live() {
		for _, p := range e.Begin.Writes {
			if p != path {
				continue
			}
			for _, op := range e.Begin.Undo {
				if op.Path == path {
					return op.Kind == OpRemove
				}
			}
		}
	}
	return false
}

func (f *Facts) journalRegistries() map[string]bool {
	m := map[string]bool{}
	for _, e := range f.live() {
		if e.Begin.Registry != "" {
			m[e.Begin.Registry] = true
		}
	}
	return m
}

// Writes lists the paths a change's operations write or remove.
func (ch *Change) Writes() []string {
	var out []string
	for _, op := range ch.Do {
		if op.Kind == OpWrite || op.Kind == OpRemove {
			out = append(out, op.Path)
		}
	}
	return out
}

// Step is the name of the step the entry's change belongs to.
func (e *Entry) Step() string { return e.Begin.Step }
