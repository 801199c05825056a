package tmpl

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"text/template"
	"text/template/parse"
)

// MaxLineSize bounds what one snippet line's template may produce; far more
// than any directive needs, and small enough that a runaway template fails
// fast instead of holding up haproxy's start. It bounds a template's own
// text, and every value a function in it builds, too.
const MaxLineSize = 16 << 10

// A template runs once per section its line is written into, at every
// haproxy start and reload, so its cost is bounded three ways. At load, a
// line's template may have at most maxNodes parse nodes, and no range,
// define, template or block: without them nothing repeats, so one
// evaluation visits each node once at most. While it runs, the functions of
// one evaluation may build at most maxEvalBytes of text. And all the
// evaluations of one patch together (one [Budget]) may visit maxPatchSteps
// nodes and build maxPatchBytes, so that a snippet with thousands of
// templated lines edited into thousands of sections still fails fast
// instead of stalling a start.
const (
	maxNodes      = 256
	maxEvalBytes  = 4 * MaxLineSize
	maxPatchSteps = 1 << 21
	maxPatchBytes = 32 << 20
)

// Template is one snippet line's template, parsed and checked against the
// bounds above.
type Template struct {
	t *template.Template
	// nodes is the number of parse nodes, the most one evaluation can
	// visit (see checkTemplate).
	nodes int
}

// Parse parses and checks text, a snippet line with {{ }} actions; name is
// the line's file:line, for text/template's own messages. The error says
// what is wrong in the snippet's terms.
func Parse(name, text string) (*Template, error) {
	t, err := template.New(name).Option("missingkey=error").Funcs(funcs(nil, nil)).Parse(text)
	if err != nil {
		return nil, errors.New(CleanError(err))
	}
	nodes, err := checkTemplate(t)
	if err != nil {
		return nil, err
	}
	return &Template{t: t, nodes: nodes}, nil
}

// Nodes is the template's number of parse nodes, at most maxNodes.
func (t *Template) Nodes() int { return t.nodes }

// Execute runs the template on data, its env function answered by getenv
// (nil: no variable is set), charging b, which all the evaluations of one
// patch share. An error of the template's says where it failed in
// text/template's words (see [CleanError]); ErrLineTooLong when the line or
// a value built on the way passes MaxLineSize, and ErrBudgetSpent when an
// earlier evaluation spent b.
func (t *Template) Execute(data Context, getenv func(string) (string, bool), b *Budget) (string, error) {
	if err := b.start(t.nodes); err != nil {
		return "", err
	}
	c, err := t.t.Clone()
	if err != nil {
		return "", err
	}
	var out limitedBuffer
	c = c.Funcs(funcs(getenv, &evalBudget{patch: b}))
	if err := c.Execute(&out, data); err != nil {
		return "", err
	}
	if err := b.spend(out.Len()); err != nil {
		return "", err
	}
	return out.String(), nil
}

// Context is what snippet lines can use in {{ }} actions.
type Context struct {
	// Servers is the number of distinct non-backup server names across all
	// backends, plus every server-template slot: the replica count.
	Servers int
	// Backends is the number of backends other than Ray's default_backend.
	Backends int
	// Section describes the section being edited.
	Section SectionContext
}

// SectionContext describes the section a line is written into.
type SectionContext struct {
	Kind    string
	Name    string
	Servers int
}

// templateFuncNames are the functions a snippet template may call: the
// documented ones, bounded printf, print and println, and text/template's
// comparisons and logic. The others (call, html, index, js, len, slice,
// urlquery) are refused at load: none has a use in a directive, and the
// string builders among them have no bound.
var templateFuncNames = map[string]bool{
	"env": true, "mul": true, "add": true, "max": true, "min": true,
	"printf": true, "print": true, "println": true,
	"and": true, "or": true, "not": true,
	"eq": true, "ne": true, "lt": true, "le": true, "gt": true, "ge": true,
}

// knownTemplateFuncs lists templateFuncNames for messages, in the order of docs/reference.md.
const knownTemplateFuncs = "env, mul, add, max, min, printf, print, println, and, or, not, eq, ne, lt, le, gt, ge"

// checkTemplate refuses what could make a line's template repeat work or
// run unbounded (see maxNodes), and returns its number of parse
// nodes, the most one evaluation can visit.
func checkTemplate(t *template.Template) (int, error) {
	if n := len(t.Templates()); n > 1 {
		return 0, errors.New("define and block are not supported: a line is one directive")
	}
	nodes := 0
	var walk func(n parse.Node) error
	walk = func(n parse.Node) error {
		if n == nil {
			return nil
		}
		nodes++
		if nodes > maxNodes {
			return fmt.Errorf("the template has more than %d parts; a line is one directive", maxNodes)
		}
		switch n := n.(type) {
		case *parse.ListNode:
			if n == nil {
				return nil
			}
			for _, c := range n.Nodes {
				if err := walk(c); err != nil {
					return err
				}
			}
		case *parse.RangeNode:
			return errors.New("range is not supported: a line is one directive")
		case *parse.TemplateNode:
			return errors.New("template and block are not supported: a line is one directive")
		case *parse.BreakNode, *parse.ContinueNode:
			return errors.New("break and continue are not supported: a line is one directive")
		case *parse.IfNode:
			return walkBranch(walk, &n.BranchNode)
		case *parse.WithNode:
			return walkBranch(walk, &n.BranchNode)
		case *parse.ActionNode:
			return walk(n.Pipe)
		case *parse.PipeNode:
			if n == nil {
				return nil
			}
			for _, c := range n.Cmds {
				if err := walk(c); err != nil {
					return err
				}
			}
		case *parse.CommandNode:
			for _, a := range n.Args {
				if err := walk(a); err != nil {
					return err
				}
			}
		case *parse.ChainNode:
			return walk(n.Node)
		case *parse.IdentifierNode:
			if !templateFuncNames[n.Ident] {
				return fmt.Errorf("function %q is not available in snippets (known: %s)", n.Ident, knownTemplateFuncs)
			}
		}
		return nil
	}
	for _, x := range t.Templates() {
		if x.Tree != nil {
			if err := walk(x.Tree.Root); err != nil {
				return 0, err
			}
		}
	}
	return nodes, nil
}

func walkBranch(walk func(parse.Node) error, b *parse.BranchNode) error {
	if err := walk(b.Pipe); err != nil {
		return err
	}
	if err := walk(b.List); err != nil {
		return err
	}
	if b.ElseList != nil {
		return walk(b.ElseList)
	}
	return nil
}

// templateNoiseRE matches the parts of text/template's execution errors that
// repeat the template's name or name Go types and functions.
// Compiled on first use, since package init runs on every shim start.
var templateNoiseRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^executing "[^"]*" |error calling \w+: `) })

// CleanError is a text/template error in a snippet author's words: without
// the template's name (the caller says the file:line), the Go types and the
// functions text/template names.
func CleanError(err error) string {
	msg := err.Error()
	// text/template prefixes "template: NAME:LINE:COL: "; the name is our position.
	if i := strings.Index(msg, ": "); i >= 0 && strings.HasPrefix(msg, "template: ") {
		rest := msg[len("template: "):]
		if j := strings.Index(rest, ": "); j >= 0 {
			msg = rest[j+2:]
		}
	}
	msg = templateNoiseRE().ReplaceAllString(msg, "")
	return strings.Replace(msg, "in type tmpl.Context",
		"(known: .Servers, .Backends, .Section.Kind, .Section.Name, .Section.Servers)", 1)
}
