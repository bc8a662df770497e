package steps

import (
	"bytes"
	"path/filepath"
	"sort"

	"github.com/mvorch/mvorch/runner/sh"
	"github.com/mvorch/mvorch/runner/udiff"
)

// newChange starts a change of the given step on the context's host.
func (c *Context) newChange(step Step, action Action, target string) *Change {
	return &Change{Step: step.Name(), Host: c.Host.Name, Action: action, Target: target}
}

// exec is an operation that runs a command built with runner/sh.
func exec(cmd sh.Command) Op { return Op{Kind: OpExec, Cmd: cmd.String()} }

// writeFile plans path to hold data: nothing when it already does, else a
// change whose undo puts back the previous content (or removes the file).
// The facts are updated with the new content.
func (c *Context) writeFile(step Step, path string, data []byte, mode uint32) *Change {
	old := c.Facts.Files[path]
	if old != nil && bytes.Equal(old.Data, data) {
		return nil
	}
	ch := c.newChange(step, ActionAdd, path)
	ch.Do = []Op{{Kind: OpWrite, Path: path, Data: data, Mode: mode}}
	var oldData []byte
	oldName := "/dev/null"
	if old != nil {
		oldName = path
		ch.Action = ActionChange
		oldData = old.Data
		ch.Undo = []Op{{Kind: OpWrite, Path: path, Data: old.Data, Mode: old.Mode}}
	} else {
		ch.Undo = []Op{{Kind: OpRemove, Path: path}}
		if dir := filepath.Dir(path); c.Facts.Dirs != nil && !c.Facts.Dirs[dir] && containsStr(parentDirs, dir) {
			// The write creates the directory: the undo removes it when empty.
			// Safe to repeat: a directory already gone is fine.
			ch.Undo = append(ch.Undo, rmdirIfEmpty(dir))
			c.Facts.Dirs[dir] = true
		}
	}
	ch.Diff = udiff.Unified(oldName, path, oldData, data, 3)
	c.Facts.Files[path] = &File{Data: data, Mode: mode}
	return ch
}

// rmdirIfEmpty removes a directory a change made, when nothing else is in
// it; safe to repeat (a directory already gone is fine).
func rmdirIfEmpty(dir string) Op {
	return exec(sh.New("test", "!", "-d", dir).Raw("||").Arg("rmdir", "--ignore-fail-on-non-empty", "--", dir))
}

// removeFile plans path's removal, undone by writing it back.
func (c *Context) removeFile(step Step, path string) *Change {
	old := c.Facts.Files[path]
	if old == nil {
		return nil
	}
	ch := c.newChange(step, ActionRemove, path)
	ch.Do = []Op{{Kind: OpRemove, Path: path}}
	ch.Undo = []Op{{Kind: OpWrite, Path: path, Data: old.Data, Mode: old.Mode}}
	ch.Diff = udiff.Unified(path, "/dev/null", old.Data, nil, 3)
	delete(c.Facts.Files, path)
	return ch
}

// staleManaged lists, sorted, the names of the things mvorch made that the
// inventory no longer wants here.
func staleManaged[T any](things map[string]T, managed func(T) bool, want map[string]bool) []string {
	var names []string
	for name, t := range things {
		if managed(t) && !want[name] {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return names
}

// nonNil drops the nil changes helpers return for "nothing to do".
func nonNil(chs ...*Change) []*Change {
	out := chs[:0]
	for _, ch := range chs {
		if ch != nil {
			out = append(out, ch)
		}
	}
	return out
}
