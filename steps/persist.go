package steps

import (
	"bytes"
	"fmt"
	"path"
	"strings"

	"github.com/mvorch/mvorch/runner/sh"
	"github.com/mvorch/mvorch/runner/udiff"
)

// planPersisted plans one backend rendering (see netbackend.go) as one
// change: its files shown as diffs, written, enabled, reloaded and, when
// start is set, started. Nothing when the files and links are there and
// running says the thing is; a start alone when only the running state is
// missing. The undo stops it, removes what the change added and puts back
// what it replaced, so that rollback leaves the host as it was.
func (c *Context) planPersisted(step Step, target string, r Rendered, running, start bool) *Change {
	if c.Facts.Symlinks == nil {
		c.Facts.Symlinks = map[string]string{}
	}
	var diffs []string
	written := false
	for _, f := range r.Files {
		old := c.Facts.Files[f.Path]
		if old != nil && bytes.Equal(old.Data, f.Data) {
			continue
		}
		written = true
		from, oldData := "/dev/null", []byte(nil)
		if old != nil {
			from, oldData = f.Path, old.Data
		}
		diffs = append(diffs, udiff.Unified(from, f.Path, oldData, f.Data, diffContext(old)))
	}
	var missing []Symlink
	for _, l := range r.Enable {
		if c.Facts.Symlinks[l.Path] != l.Target {
			missing = append(missing, l)
		}
	}
	if !written && len(missing) == 0 {
		if running || !start {
			return nil
		}
		ch := c.newChange(step, ActionChange, target)
		says := r.Says
		if says == "" {
			says = commandsText(r.Start)
		}
		ch.Detail = "start again from its configuration (" + says + ")"
		ch.Do = execs(r.Start)
		return ch
	}
	ch := c.newChange(step, ActionAdd, target)
	ch.Diff = strings.Join(diffs, "")
	var enabled []string
	for _, l := range missing {
		enabled = append(enabled, l.Path)
	}
	var undo []Op
	if start {
		undo = append(undo, execs(r.Stop)...)
	}
	for _, l := range missing {
		dir := path.Dir(l.Path)
		made := c.Facts.Dirs != nil && !c.Facts.Dirs[dir] && containsStr(parentDirs, dir)
		if made {
			// A .wants directory no unit had yet (docker.service.wants).
			ch.Do = append(ch.Do, exec(sh.New("mkdir", "-p", "--", dir)))
			c.Facts.Dirs[dir] = true
		}
		ch.Do = append(ch.Do, exec(sh.New("ln", "-sfn", "--", l.Target, l.Path)))
		if old, ok := c.Facts.Symlinks[l.Path]; ok {
			undo = append(undo, exec(sh.New("ln", "-sfn", "--", old, l.Path)))
		} else {
			undo = append(undo, exec(sh.New("rm", "-f", "--", l.Path)))
		}
		if made {
			undo = append(undo, rmdirIfEmpty(dir))
		}
		c.Facts.Symlinks[l.Path] = l.Target
	}
	hadFiles := false
	for _, f := range r.Files {
		old := c.Facts.Files[f.Path]
		if old != nil && bytes.Equal(old.Data, f.Data) {
			continue
		}
		ch.Do = append([]Op{{Kind: OpWrite, Path: f.Path, Data: f.Data, Mode: f.Mode}}, ch.Do...)
		if old != nil {
			hadFiles = true
			ch.Action = ActionChange
			undo = append(undo, Op{Kind: OpWrite, Path: f.Path, Data: old.Data, Mode: old.Mode})
		} else {
			undo = append(undo, Op{Kind: OpRemove, Path: f.Path})
			if dir := path.Dir(f.Path); c.makesDir(dir) {
				undo = append(undo, rmdirIfEmpty(dir))
				c.Facts.Dirs[dir] = true
			}
		}
		c.Facts.Files[f.Path] = &File{Data: f.Data, Mode: f.Mode}
	}
	ch.Do = append(ch.Do, execs(r.Reload)...)
	undo = append(undo, execs(r.Reload)...)
	if start {
		ch.Do = append(ch.Do, execs(r.Start)...)
		if hadFiles && running {
			// What ran before runs again, from the files put back.
			undo = append(undo, execs(r.Start)...)
		}
	}
	ch.Undo = undo
	ch.Detail = persistDetail(written, enabled, start, r)
	return ch
}

func persistDetail(written bool, enabled []string, start bool, r Rendered) string {
	var parts []string
	if written {
		parts = append(parts, "write")
	}
	if len(enabled) > 0 {
		parts = append(parts, "enable at boot ("+strings.Join(enabled, ", ")+")")
	}
	switch {
	case start && r.Says != "":
		parts = append(parts, r.Says)
	case start && len(r.Start) > 0:
		parts = append(parts, commandsText(r.Start))
	case len(r.Reload) > 0 && (written || len(enabled) > 0):
		// Nothing to start: what the host's tool is told is the news.
		parts = append(parts, commandsText(r.Reload))
	}
	return strings.Join(parts, ", then ")
}

// diffContext is how many unchanged lines a diff of a changed file shows
// around a change: one for a file only root may read (a NetworkManager
// profile can hold 802.1X passwords and Wi-Fi keys in other sections, which
// a plan printed on a laptop must not show; mvorch's lines go at the end of
// their section, before the blank line that ends it).
func diffContext(old *File) int {
	if old != nil && old.Mode&0o077 == 0 {
		return 1
	}
	return 3
}

// makesDir: a file written into dir creates it (a drop-in directory the host
// had no file in yet), so the undo removes it again.
func (c *Context) makesDir(dir string) bool {
	return c.Facts.Dirs != nil && !c.Facts.Dirs[dir] && containsStr(hostDirs(c.Host), dir)
}

// removePersisted plans the removal of a rendering mvorch made earlier: it
// is stopped, disabled and its files removed; the undo writes them back,
// enables and starts it again.
func (c *Context) removePersisted(step Step, target string, r Rendered) *Change {
	if r.Edit {
		// The files are the host's own: they are written back without
		// what mvorch had put in them.
		ch := c.planPersisted(step, target, r, true, false)
		if ch != nil {
			ch.Detail += " (mvorch's setting taken out: no longer in the inventory)"
		}
		return ch
	}
	ch := c.newChange(step, ActionRemove, target)
	ch.Do = execs(r.Stop)
	var diffs []string
	var undo []Op
	for _, f := range r.Files {
		old := c.Facts.Files[f.Path]
		if old == nil {
			continue
		}
		diffs = append(diffs, udiff.Unified(f.Path, "/dev/null", old.Data, nil, 3))
		undo = append(undo, Op{Kind: OpWrite, Path: f.Path, Data: old.Data, Mode: old.Mode})
	}
	for _, l := range r.Enable {
		old, ok := c.Facts.Symlinks[l.Path]
		if !ok {
			continue
		}
		ch.Do = append(ch.Do, exec(sh.New("rm", "-f", "--", l.Path)))
		undo = append(undo, exec(sh.New("ln", "-sfn", "--", old, l.Path)))
		delete(c.Facts.Symlinks, l.Path)
	}
	for _, f := range r.Files {
		if c.Facts.Files[f.Path] != nil {
			ch.Do = append(ch.Do, Op{Kind: OpRemove, Path: f.Path})
			delete(c.Facts.Files, f.Path)
		}
	}
	ch.Do = append(ch.Do, execs(r.Reload)...)
	ch.Undo = append(append(undo, execs(r.Reload)...), execs(r.Start)...)
	ch.Diff = strings.Join(diffs, "")
	ch.Detail = fmt.Sprintf("%s, disable, remove (no longer in the inventory)", commandsText(r.Stop))
	if len(r.Stop) == 0 && len(r.Enable) == 0 {
		ch.Detail = "remove (no longer in the inventory)"
	}
	return ch
}

func execs(cmds []sh.Command) []Op {
	ops := make([]Op, len(cmds))
	for i, c := range cmds {
		ops[i] = exec(c)
	}
	return ops
}

func commandsText(cmds []sh.Command) string {
	var out []string
	for _, c := range cmds {
		out = append(out, c.String())
	}
	return strings.Join(out, "; ")
}
