package transport

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strconv"

	"github.com/mvorch/mvorch/runner/sh"
)

// execFiles is the transfer for hosts without SFTP: each operation is one
// shell script on an exec session (through sudo with become, as every
// command), file data on its standard input. It writes as the SFTP transfer
// does: temp file beside the target, mode set before the data, synced, then
// renamed over the target.
type execFiles struct{ c *Client }

// missingStatus is the exit status the scripts use for "no such file".
const missingStatus = 44

func (f execFiles) name() string {
	if f.c.cfg.OneShell && f.c.cfg.Become != "" {
		return "the host's one shell via sudo"
	}
	if f.c.cfg.OneShell {
		return "the host's one shell"
	}
	if f.c.cfg.Become != "" {
		return "exec via sudo (no SFTP)"
	}
	return "exec (no SFTP)"
}

// run runs the script made of lines, with stdin; a missingStatus exit is
// an error wrapping fs.ErrNotExist.
func (f execFiles) run(ctx context.Context, stdin []byte, lines ...sh.Command) ([]byte, error) {
	for _, l := range lines {
		if err := l.Err(); err != nil {
			return nil, err
		}
	}
	res, err := f.c.Run(ctx, sh.Script(lines...), stdin)
	var exit *ExitError
	if errors.As(err, &exit) && exit.Code == missingStatus {
		return nil, fs.ErrNotExist
	}
	return res.Stdout, err
}

func (f execFiles) read(ctx context.Context, p string) ([]byte, fs.FileMode, error) {
	out, err := f.run(ctx, nil,
		sh.New("test", "-e", p).Raw("|| exit 44"),
		sh.New("test", "!", "-d", p).Raw("|| { echo 'is a directory' >&2; exit 1; }"),
		sh.Join(sh.New("stat", "-L", "-c", "%a", "--", p), sh.New("cat", "--", p)),
	)
	if err != nil {
		return nil, 0, err
	}
	// The first line is the mode, in octal; the file follows.
	first, data, ok := bytes.Cut(out, []byte("\n"))
	mode, perr := strconv.ParseUint(string(first), 8, 32)
	if !ok || perr != nil {
		return nil, 0, fmt.Errorf("reading %s: unexpected stat output %q", p, first)
	}
	return data, fs.FileMode(mode).Perm(), nil
}

func (f execFiles) writeAtomic(ctx context.Context, p string, data []byte, mode fs.FileMode) error {
	tmp, err := tempName(p)
	if err != nil {
		return err
	}
	if data == nil {
		data = []byte{}
	}
	octal := fmt.Sprintf("%04o", mode.Perm())
	// umask 077 and noclobber: the temp file is created new and private;
	// its mode is set before the data goes in (a secret is never readable
	// under a looser mode). mv -T renames over p and never into a
	// directory at p. On any failure the temp file goes.
	write := sh.Join(
		sh.New("umask", "077"),
		sh.New("set", "-C"),
		sh.New(":").Raw(">").Arg(tmp),
		sh.New("chmod", "--", octal, tmp),
		sh.New("cat").Raw(">>").Arg(tmp),
		sh.Command{}.Raw("{").Arg("sync", "--", tmp).Raw("2>/dev/null || sync; }"),
		sh.New("mv", "-f", "-T", "--", tmp, p),
	).Raw("|| {").Arg("rm", "-f", "--", tmp).Raw("; exit 1; }")
	_, err = f.run(ctx, data, write)
	return err
}

func (f execFiles) remove(ctx context.Context, p string) error {
	// A file or symlink is unlinked, an (empty) directory removed, as
	// SFTP's remove does.
	_, err := f.run(ctx, nil,
		sh.Command{}.Raw("if").Arg("test", "-d", p).Raw("&& !").Arg("test", "-L", p).
			Raw("; then").Arg("rmdir", "--", p).
			Raw("; elif").Arg("test", "-e", p).Raw("||").Arg("test", "-L", p).
			Raw("; then").Arg("rm", "-f", "--", p).
			Raw("; else exit 44; fi"))
	return err
}

func (f execFiles) mkdirAll(ctx context.Context, p string, mode fs.FileMode) error {
	// Each missing directory from the top down is made and given mode, as
	// the SFTP transfer does; one made meanwhile by a parallel MkdirAll
	// is success.
	var dirs []string
	for d := p; d != "/" && d != "."; d = path.Dir(d) {
		dirs = append([]string{d}, dirs...)
	}
	octal := fmt.Sprintf("%04o", mode.Perm())
	lines := make([]sh.Command, len(dirs))
	for i, d := range dirs {
		lines[i] = sh.Command{}.Raw("if test ! -d").Arg(d).
			Raw("; then").Arg("mkdir", "--", d).Raw("&&").Arg("chmod", "--", octal, d).
			Raw("||").Arg("test", "-d", d).Raw("|| exit 1; fi")
	}
	_, err := f.run(ctx, nil, lines...)
	return err
}
