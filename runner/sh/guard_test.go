package sh

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// TestRemoteCommandsUseSh fails when Go code of mvorch builds the text of a
// remote shell command other than with this package, where quoting is the
// default. It reads the source syntactically (go/parser, no type checking)
// of every non-test .go file under steps/, runner/, cmd/ and inventory/,
// leaving out runner/sh itself and testdata directories, and checks three
// places where shell text leaves Go:
//
//  1. Commands sent to a host: a call X.Run(ctx, CMD, stdin) with three
//     arguments, X.Stream(ctx, CMD, stdin, tee) with four, X.Hold(ctx, CMD,
//     rest) with three or X.Pipe(ctx, CMD) with two (the methods of
//     runner/transport.Client; no other Run, Stream, Hold or Pipe in the
//     tree takes that many arguments). CMD must be "shell text":
//     - a string literal, or a + of string literals and constants;
//     - E.String(), where E is a sh.Command: a chain of sh.New / sh.Join and
//     .Arg / .Raw calls, a call of a function or method declared in the
//     module to return sh.Command, or a variable that is one of those (a
//     local variable is followed to its assignments; a parameter must be
//     declared as sh.Command);
//     - a call of an allowed function that builds a whole script with
//     Quote itself: sh.Script, and steps.FactsScript (every value it puts
//     in goes through sh.Quote or sh.New; the rest is constant text);
//     - a variable: a local one is followed to its assignments, which must
//     be shell text in turn; a parameter or a struct field (op.Cmd) is
//     accepted here, because where its value is built is checked by rule 2
//     or at the call that passes it.
//     Anything else is flagged: a + with an operand that is not constant,
//     fmt.Sprintf and friends, strings.Join, and so on.
//  2. Planned commands: the Cmd field of a steps.Op composite literal
//     (Op{Kind: OpExec, Cmd: ...}, also untyped inside []Op{...}), and any
//     assignment to a field named Cmd of a non-composite (x.Cmd = ...), must
//     be shell text as in rule 1.
//  3. The opt-out: the argument of .Raw(...) must be constant: a string
//     literal, a constant, a + of those, or E.String() of a sh.Command (a
//     whole quoted command nested in another, as runner/lock.go does). A +
//     with a non-constant operand, fmt.Sprint*, a parameter, or a local
//     variable assigned any of those is flagged.
//
// Being syntactic, it trusts names: a package-level variable, or a field of
// any type, is not followed. TestGuardFlagsBadSource shows what it catches.
func TestRemoteCommandsUseSh(t *testing.T) {
	root := moduleRoot(t)
	files := map[string][]byte{}
	for _, dir := range []string{"steps", "runner", "cmd", "inventory"} {
		err := filepath.WalkDir(filepath.Join(root, dir), func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(root, path)
			rel = filepath.ToSlash(rel)
			if d.IsDir() {
				if d.Name() == "testdata" || rel == "runner/sh" {
					return filepath.SkipDir
				}
				return nil
			}
			if !strings.HasSuffix(rel, ".go") || strings.HasSuffix(rel, "_test.go") {
				return nil
			}
			data, err := os.ReadFile(path)
			files[rel] = data
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(files) < 20 {
		t.Fatalf("found only %d Go files under %s; is the walk broken?", len(files), root)
	}
	findings, seen, err := checkShellTextCount(files)
	if err != nil {
		t.Fatal(err)
	}
	// The tree sends commands in several places; finding none means the
	// matcher is broken, not that the code is clean.
	for rule, least := range map[string]int{"Run/Hold": 5, "Raw": 5, "Op.Cmd": 1} {
		if seen[rule] < least {
			t.Errorf("checked only %d places for %s, expected at least %d: has the code or the checker changed?", seen[rule], rule, least)
		}
	}
	t.Logf("checked %d Run/Hold calls, %d Raw calls, %d Op.Cmd fields in %d files", seen["Run/Hold"], seen["Raw"], seen["Op.Cmd"], len(files))
	for _, f := range findings {
		t.Errorf("%s", f)
	}
	if len(findings) > 0 {
		t.Log("build remote commands with sh.New(...).Arg(...); Raw is for constant shell syntax only (see this test's comment)")
	}
}

// TestGuardFlagsBadSource runs the checker on sources that do it wrong, and
// on ones that do it right.
func TestGuardFlagsBadSource(t *testing.T) {
	bad := `package runner

import (
	"fmt"
	"github.com/mvorch/mvorch/runner/sh"
	"github.com/mvorch/mvorch/steps"
)

func bad1(c *Client, name string) {
	c.Run(ctx, "docker rm -f "+name, nil)                                 // line 10: concatenation
	c.Run(ctx, fmt.Sprintf("docker network rm %s", name), nil)           // line 11: Sprintf
	cmd := "ip link del " + name
	c.Run(ctx, cmd, nil)                                                  // line 13: variable built by +
	c.Hold(ctx, strings.Join([]string{"flock", name}, " "), nil)         // line 14: not built with sh
	c.Run(ctx, sh.New("docker", "rm").Raw("-f "+name).String(), nil)     // line 15: Raw with a value
	redirect := fmt.Sprintf("> %s", name)
	x := sh.New("echo").Raw(redirect)                                     // line 17: Raw of a variable built by Sprintf
	_ = x
	var b strings.Builder
	c.Run(ctx, b.String(), nil)                                           // line 20: String of no sh.Command
	s := "docker ps"
	s += " --filter name=" + name
	c.Run(ctx, s, nil)                                                    // line 23: += with a value
}

func bad2(name string, raw string) []steps.Op {
	op := steps.Op{Kind: steps.OpExec, Cmd: "docker start " + name}      // line 27: Op literal
	ops := []steps.Op{{Kind: steps.OpExec, Cmd: fmt.Sprint("docker stop ", name)}} // line 28: untyped element
	op.Cmd = "docker kill " + name                                       // line 29: assignment to Cmd
	_ = sh.New("x").Raw(raw)                                             // line 30: Raw of a parameter
	return append(ops, op)
}

func bad3(c *Client, name string) {
	c.Stream(ctx, "cat "+name, nil, w)                                    // line 35: Stream, concatenation
	c.Pipe(ctx, fmt.Sprintf("nc -U %s", name))                            // line 36: Pipe, Sprintf
}
`
	good := `package runner

import "github.com/mvorch/mvorch/runner/sh"

const lockFile = "/run/lock"

func helper(name string) sh.Command { return sh.New("docker", "rm", "--", name) }

func good(c *Client, op steps.Op, name string, cmd sh.Command, ready string) {
	c.Run(ctx, sh.New("docker", "rm", "--", name).Raw(">/dev/null 2>&1 || true").String(), nil)
	c.Run(ctx, helper(name).Arg("x").String(), nil)
	c.Run(ctx, op.Cmd, nil)
	c.Run(ctx, cmd.String(), nil)
	c.Run(ctx, ready, nil)
	c.Run(ctx, "cat "+lockFile, nil)
	c.Run(ctx, steps.FactsScript(inv, h), nil)
	c.Run(ctx, sh.Script(cmd, helper(name)), nil)
	hold := sh.New("sh", "-c", "echo "+name)
	full := sh.New("flock", lockFile).Raw(hold.String()).Raw("&& " + "true")
	c.Hold(ctx, full.String(), nil)
	c.Stream(ctx, steps.FactsScript(inv, h), nil, w)
	c.Pipe(ctx, sh.Script(cmd, helper(name)))
	ping := sh.New("docker", "version").String()
	c.Run(ctx, ping, nil)
	ops := []steps.Op{{Kind: steps.OpExec, Cmd: helper(name).String()}}
	x := steps.Op{Kind: steps.OpExec, Cmd: cmd.String()}
	_, _ = ops, x
	exec.Command("ls").Run()
	m.Run()
}
`
	findings, err := checkShellText(map[string][]byte{"bad.go": []byte(bad), "good.go": []byte(good)})
	if err != nil {
		t.Fatal(err)
	}
	var badLines []int
	for _, f := range findings {
		if f.file != "bad.go" {
			t.Errorf("flagged correct code: %s", f)
			continue
		}
		badLines = append(badLines, f.line)
	}
	want := []int{10, 11, 13, 14, 15, 17, 20, 23, 27, 28, 29, 30, 35, 36}
	if fmt.Sprint(badLines) != fmt.Sprint(want) {
		t.Errorf("flagged lines %v, want %v; findings:\n%s", badLines, want, joinFindings(findings))
	}
	t.Logf("findings on the bad source:\n%s", joinFindings(findings))
}

type finding struct {
	file string
	line int
	msg  string
}

func (f finding) String() string { return fmt.Sprintf("%s:%d: %s", f.file, f.line, f.msg) }

func joinFindings(fs []finding) string {
	lines := make([]string, len(fs))
	for i, f := range fs {
		lines[i] = f.String()
	}
	return strings.Join(lines, "\n")
}

func moduleRoot(t *testing.T) string {
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's directory")
		}
		dir = parent
	}
}

// scriptFuncs build a whole script and quote every value in it themselves.
var scriptFuncs = map[string]bool{
	"sh.Script":         true,
	"steps.FactsScript": true,
	"FactsScript":       true, // within package steps
}

// guard holds what the checks need to know about the whole module.
type guard struct {
	fset     *token.FileSet
	consts   map[string]bool // "pkg.Name" of every package-level constant
	shFuncs  map[string]bool // names of functions and methods that return sh.Command
	findings []finding
	seen     map[string]int // how many places of each rule were checked
}

func checkShellText(files map[string][]byte) ([]finding, error) {
	findings, _, err := checkShellTextCount(files)
	return findings, err
}

// checkShellTextCount also says how many places of each rule it checked, so
// that a matcher that stopped matching does not pass silently.
func checkShellTextCount(files map[string][]byte) ([]finding, map[string]int, error) {
	g := &guard{fset: token.NewFileSet(), consts: map[string]bool{}, shFuncs: map[string]bool{}, seen: map[string]int{}}
	parsed := map[string]*ast.File{}
	for name, src := range files {
		f, err := parser.ParseFile(g.fset, name, src, 0)
		if err != nil {
			return nil, nil, err
		}
		parsed[name] = f
		g.collect(f)
	}
	for name, f := range parsed {
		g.check(name, f)
	}
	sort.Slice(g.findings, func(i, j int) bool {
		a, b := g.findings[i], g.findings[j]
		return a.file < b.file || a.file == b.file && a.line < b.line
	})
	return g.findings, g.seen, nil
}

// collect records the module's constants and the functions that return a sh.Command.
func (g *guard) collect(f *ast.File) {
	pkg := f.Name.Name
	for _, decl := range f.Decls {
		switch d := decl.(type) {
		case *ast.GenDecl:
			if d.Tok != token.CONST {
				continue
			}
			for _, spec := range d.Specs {
				for _, n := range spec.(*ast.ValueSpec).Names {
					g.consts[pkg+"."+n.Name] = true
				}
			}
		case *ast.FuncDecl:
			if r := d.Type.Results; r != nil && len(r.List) == 1 && len(r.List[0].Names) <= 1 && isShCommandType(r.List[0].Type) {
				g.shFuncs[d.Name.Name] = true
			}
		}
	}
}

func isShCommandType(e ast.Expr) bool {
	sel, ok := e.(*ast.SelectorExpr)
	return ok && isIdent(sel.X, "sh") && sel.Sel.Name == "Command"
}

func isIdent(e ast.Expr, name string) bool {
	id, ok := e.(*ast.Ident)
	return ok && id.Name == name
}

// def is one way a local name gets its value.
type def struct {
	expr  ast.Expr // the value assigned; nil when unknown (a, b := f())
	typ   ast.Expr // the declared type, for parameters and var declarations
	param bool
}

// scope maps the local names of one function to their definitions.
type scope map[string][]def

func funcScope(fn *ast.FuncType, body *ast.BlockStmt) scope {
	sc := scope{}
	for _, fl := range []*ast.FieldList{fn.Params, fn.Results} {
		if fl == nil {
			continue
		}
		for _, field := range fl.List {
			for _, n := range field.Names {
				sc[n.Name] = append(sc[n.Name], def{typ: field.Type, param: true})
			}
		}
	}
	ast.Inspect(body, func(n ast.Node) bool {
		switch s := n.(type) {
		case *ast.AssignStmt:
			for i, lhs := range s.Lhs {
				id, ok := lhs.(*ast.Ident)
				if !ok || id.Name == "_" {
					continue
				}
				var e ast.Expr
				if len(s.Lhs) == len(s.Rhs) {
					e = s.Rhs[i]
					if s.Tok == token.ADD_ASSIGN {
						e = &ast.BinaryExpr{X: id, Op: token.ADD, Y: e}
					}
				}
				sc[id.Name] = append(sc[id.Name], def{expr: e})
			}
		case *ast.ValueSpec:
			for i, id := range s.Names {
				d := def{typ: s.Type}
				if len(s.Values) == len(s.Names) {
					d.expr = s.Values[i]
				}
				sc[id.Name] = append(sc[id.Name], d)
			}
		case *ast.FuncLit:
			for name, defs := range funcScope(s.Type, &ast.BlockStmt{}) {
				sc[name] = append(sc[name], defs...)
			}
		}
		return true
	})
	return sc
}

func (g *guard) check(file string, f *ast.File) {
	pkg := f.Name.Name
	for _, decl := range f.Decls {
		fd, ok := decl.(*ast.FuncDecl)
		if !ok || fd.Body == nil {
			continue
		}
		c := &checker{g: g, file: file, pkg: pkg, sc: funcScope(fd.Type, fd.Body)}
		ast.Inspect(fd.Body, c.visit)
	}
}

// checker checks one function.
type checker struct {
	g    *guard
	file string
	pkg  string
	sc   scope
}

func (c *checker) flag(n ast.Node, format string, args ...any) {
	pos := c.g.fset.Position(n.Pos())
	c.g.findings = append(c.g.findings, finding{c.file, pos.Line, fmt.Sprintf(format, args...)})
}

func (c *checker) visit(n ast.Node) bool {
	switch n := n.(type) {
	case *ast.CallExpr:
		sel, ok := n.Fun.(*ast.SelectorExpr)
		if !ok {
			break
		}
		switch {
		case sel.Sel.Name == "Run" && len(n.Args) == 3, sel.Sel.Name == "Stream" && len(n.Args) == 4,
			sel.Sel.Name == "Hold" && len(n.Args) == 3, sel.Sel.Name == "Pipe" && len(n.Args) == 2:
			c.g.seen["Run/Hold"]++
			if why := c.shellText(n.Args[1], map[string]bool{}); why != "" {
				c.flag(n, "the command sent by %s is %s", sel.Sel.Name, why)
			}
		case sel.Sel.Name == "Raw" && len(n.Args) == 1:
			c.g.seen["Raw"]++
			if why := c.rawText(n.Args[0], map[string]bool{}); why != "" {
				c.flag(n, "Raw is given %s; Raw is for constant shell syntax, values go through Arg", why)
			}
		}
	case *ast.CompositeLit:
		if isOpType(n.Type) {
			c.opLiteral(n)
		}
		if at, ok := n.Type.(*ast.ArrayType); ok && isOpType(at.Elt) {
			for _, e := range n.Elts {
				if lit, ok := e.(*ast.CompositeLit); ok && lit.Type == nil {
					c.opLiteral(lit)
				}
			}
		}
	case *ast.AssignStmt:
		for i, lhs := range n.Lhs {
			if sel, ok := lhs.(*ast.SelectorExpr); ok && sel.Sel.Name == "Cmd" && len(n.Lhs) == len(n.Rhs) {
				if why := c.shellText(n.Rhs[i], map[string]bool{}); why != "" {
					c.flag(n, "the Cmd assigned is %s", why)
				}
			}
		}
	}
	return true
}

func isOpType(e ast.Expr) bool {
	switch e := e.(type) {
	case *ast.Ident:
		return e.Name == "Op"
	case *ast.SelectorExpr:
		return e.Sel.Name == "Op"
	}
	return false
}

func (c *checker) opLiteral(lit *ast.CompositeLit) {
	for _, e := range lit.Elts {
		kv, ok := e.(*ast.KeyValueExpr)
		if !ok || !isIdent(kv.Key, "Cmd") {
			continue
		}
		c.g.seen["Op.Cmd"]++
		if why := c.shellText(kv.Value, map[string]bool{}); why != "" {
			c.flag(kv, "the Cmd of this Op is %s", why)
		}
	}
}

// shellText returns "" when e is shell text by rule 1, else what it is.
func (c *checker) shellText(e ast.Expr, seen map[string]bool) string {
	switch e := e.(type) {
	case *ast.ParenExpr:
		return c.shellText(e.X, seen)
	case *ast.BasicLit:
		return ""
	case *ast.SelectorExpr:
		return "" // a field or another package's constant: checked where it is set
	case *ast.Ident:
		return c.local(e, seen, func(d def) string {
			if d.param || d.expr == nil {
				return "" // the caller's value, or unknown: checked where it is built
			}
			return c.shellText(d.expr, seen)
		})
	case *ast.BinaryExpr:
		if why := c.constant(e, seen); why != "" {
			return "a concatenation with " + why
		}
		return ""
	case *ast.CallExpr:
		if name := funcName(e.Fun); scriptFuncs[name] {
			return ""
		} else if strings.HasPrefix(name, "fmt.Sprint") {
			return name + "(...)"
		}
		if sel, ok := e.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == "String" && len(e.Args) == 0 {
			if why := c.shCommand(sel.X, seen); why != "" {
				return "String() of " + why
			}
			return ""
		}
		return "the result of " + funcName(e.Fun) + "(...), not built with runner/sh"
	}
	return fmt.Sprintf("a %T, not built with runner/sh", e)
}

// rawText returns "" when e may be given to Raw by rule 3.
func (c *checker) rawText(e ast.Expr, seen map[string]bool) string {
	switch e := e.(type) {
	case *ast.ParenExpr:
		return c.rawText(e.X, seen)
	case *ast.Ident:
		if c.g.consts[c.pkg+"."+e.Name] && len(c.sc[e.Name]) == 0 {
			return ""
		}
		return c.local(e, seen, func(d def) string {
			switch {
			case d.param:
				return "the parameter " + e.Name
			case d.expr == nil:
				return "" // unknown: trusted
			}
			return c.rawText(d.expr, seen)
		})
	case *ast.CallExpr:
		if sel, ok := e.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == "String" && len(e.Args) == 0 {
			if why := c.shCommand(sel.X, seen); why != "" {
				return "String() of " + why
			}
			return ""
		}
		if name := funcName(e.Fun); strings.HasPrefix(name, "fmt.Sprint") {
			return name + "(...)"
		}
	}
	if why := c.constant(e, seen); why != "" {
		if _, ok := e.(*ast.BinaryExpr); ok {
			return "a concatenation with " + why
		}
		return why
	}
	return ""
}

// constant returns "" when e is a string literal, a constant, or a + of
// those; else it names the first operand that is not.
func (c *checker) constant(e ast.Expr, seen map[string]bool) string {
	switch e := e.(type) {
	case *ast.ParenExpr:
		return c.constant(e.X, seen)
	case *ast.BasicLit:
		return ""
	case *ast.BinaryExpr:
		if e.Op != token.ADD {
			return "the operator " + e.Op.String()
		}
		return cmpOr(c.constant(e.X, seen), c.constant(e.Y, seen))
	case *ast.Ident:
		if c.g.consts[c.pkg+"."+e.Name] && len(c.sc[e.Name]) == 0 {
			return ""
		}
		if defs := c.sc[e.Name]; len(defs) > 0 && !seen[e.Name] {
			// A local variable: constant if every assignment is.
			return c.local(e, seen, func(d def) string {
				if d.param || d.expr == nil {
					return "the value " + e.Name
				}
				return c.constant(d.expr, seen)
			})
		} else if seen[e.Name] {
			return "" // x += ...: the other operands decide
		}
		return "the value " + e.Name
	case *ast.SelectorExpr:
		if x, ok := e.X.(*ast.Ident); ok && c.g.consts[x.Name+"."+e.Sel.Name] {
			return ""
		}
		return "the value " + exprString(e)
	case *ast.CallExpr:
		return "the value " + funcName(e.Fun) + "(...)"
	}
	return fmt.Sprintf("a %T", e)
}

// shCommand returns "" when e is a sh.Command by rule 1.
func (c *checker) shCommand(e ast.Expr, seen map[string]bool) string {
	switch e := e.(type) {
	case *ast.ParenExpr:
		return c.shCommand(e.X, seen)
	case *ast.SelectorExpr:
		return "" // a field: trusted
	case *ast.Ident:
		return c.local(e, seen, func(d def) string {
			switch {
			case d.typ != nil && isShCommandType(d.typ):
				return ""
			case d.param || d.typ != nil:
				return e.Name + ", which is not declared as a sh.Command"
			case d.expr == nil:
				return "" // unknown: trusted
			}
			return c.shCommand(d.expr, seen)
		})
	case *ast.CallExpr:
		switch name := funcName(e.Fun); {
		case name == "sh.New" || name == "sh.Join":
			return ""
		case strings.HasSuffix(name, ".Arg") || strings.HasSuffix(name, ".Raw"):
			return c.shCommand(e.Fun.(*ast.SelectorExpr).X, seen)
		case c.g.shFuncs[lastPart(name)]:
			return ""
		default:
			return name + "(...), which does not return a sh.Command"
		}
	}
	return fmt.Sprintf("a %T", e)
}

// local checks every definition of a local name with check; a name with no
// local definition (a package-level variable) is trusted.
func (c *checker) local(id *ast.Ident, seen map[string]bool, check func(def) string) string {
	if seen[id.Name] {
		return ""
	}
	seen[id.Name] = true
	defer delete(seen, id.Name)
	for _, d := range c.sc[id.Name] {
		if why := check(d); why != "" {
			if d.expr != nil {
				return fmt.Sprintf("%s, set at line %d to %s", id.Name, c.g.fset.Position(d.expr.Pos()).Line, why)
			}
			return why
		}
	}
	return ""
}

func funcName(e ast.Expr) string {
	switch e := e.(type) {
	case *ast.Ident:
		return e.Name
	case *ast.SelectorExpr:
		return exprString(e.X) + "." + e.Sel.Name
	}
	return exprString(e)
}

func exprString(e ast.Expr) string {
	switch e := e.(type) {
	case *ast.Ident:
		return e.Name
	case *ast.SelectorExpr:
		return exprString(e.X) + "." + e.Sel.Name
	case *ast.CallExpr:
		return funcName(e.Fun) + "(...)"
	case *ast.BasicLit:
		return e.Value
	case *ast.IndexExpr:
		return exprString(e.X) + "[...]"
	}
	return fmt.Sprintf("%T", e)
}

func lastPart(name string) string {
	return name[strings.LastIndex(name, ".")+1:]
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
