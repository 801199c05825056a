package tmpl

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
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
// line's template may have at most MaxNodes parse nodes, and no range,
// define, template or block: without them nothing repeats, so one
// evaluation visits each node once at most. While it runs, the functions of
// one evaluation may build at most maxEvalBytes of text. And all the
// evaluations of one patch together (one [Budget]) may visit maxPatchSteps
// nodes and build maxPatchBytes, so that a snippet with thousands of
// templated lines edited into thousands of sections still fails fast
// instead of stalling a start.
const (
	MaxNodes      = 256
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

// Nodes is the template's number of parse nodes, at most MaxNodes.
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

// knownTemplateFuncs lists templateFuncNames for messages, in the README's order.
const knownTemplateFuncs = "env, mul, add, max, min, printf, print, println, and, or, not, eq, ne, lt, le, gt, ge"

// checkTemplate refuses what could make a line's template repeat work or
// run unbounded (see MaxNodes), and returns its number of parse
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
		if nodes > MaxNodes {
			return fmt.Errorf("the template has more than %d parts; a line is one directive", MaxNodes)
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

// ErrLineTooLong stops a template whose output, or a value built on the way
// to it, passes MaxLineSize.
var ErrLineTooLong = fmt.Errorf("the line is longer than %d bytes", MaxLineSize)

// errEvalBudget stops one evaluation that builds more text than any line
// needs, in values no longer than a line each.
var errEvalBudget = fmt.Errorf("the template builds more than %d bytes of text; a line holds at most %d", maxEvalBytes, MaxLineSize)

// Budget is what all the template evaluations of one patch may spend; the
// zero Budget is a fresh one.
type Budget struct {
	steps, bytes int
	// spent is set once the budget is passed: the template that passed it
	// has the message, and every later one fails with ErrBudgetSpent,
	// to be left unreported rather than add a message per section.
	spent bool
}

// ErrBudgetSpent fails the templates that run after the patch's budget is
// spent.
var ErrBudgetSpent = errors.New("the templates of this patch spent their budget")

// start charges the nodes of a template about to run, the most it can visit.
func (p *Budget) start(nodes int) error {
	if p.spent {
		return ErrBudgetSpent
	}
	p.steps += nodes
	if p.steps > maxPatchSteps {
		p.spent = true
		return fmt.Errorf("the templates of this patch visit more than %d steps (too many templated lines times the sections they edit)", maxPatchSteps)
	}
	return nil
}

// spend charges n bytes of built text.
func (p *Budget) spend(n int) error {
	if p.spent {
		return ErrBudgetSpent
	}
	p.bytes += n
	if p.bytes > maxPatchBytes {
		p.spent = true
		return fmt.Errorf("the templates of this patch build more than %d bytes of text (too many templated lines times the sections they edit)", maxPatchBytes)
	}
	return nil
}

// evalBudget is what one evaluation may spend; every value a function
// builds is charged to it and to the patch's budget.
type evalBudget struct {
	bytes int
	patch *Budget
}

// spend charges a value of n bytes about to be built: one longer than a
// line is refused before it is built, as is one past the budgets.
func (e *evalBudget) spend(n int) error {
	if n > MaxLineSize {
		return ErrLineTooLong
	}
	e.bytes += n
	if e.bytes > maxEvalBytes {
		return errEvalBudget
	}
	if e.patch != nil {
		return e.patch.spend(n)
	}
	return nil
}

// limitedBuffer is a strings.Builder that refuses to grow past MaxLineSize.
type limitedBuffer struct{ strings.Builder }

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if b.Len()+len(p) > MaxLineSize {
		return 0, ErrLineTooLong
	}
	return b.Builder.Write(p)
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

// funcs returns env, mul, add, max, min and the bounded printf, print and
// println, each charging b. getenv and b may be nil at parse time, when
// only the names matter.
func funcs(getenv func(string) (string, bool), b *evalBudget) template.FuncMap {
	if b == nil {
		b = &evalBudget{}
	}
	return template.FuncMap{
		"env": func(name string, def ...string) (string, error) {
			if getenv != nil {
				if v, ok := getenv(name); ok {
					if len(v) > MaxLineSize {
						return "", fmt.Errorf("environment variable %s is %d bytes long, longer than a line may be (%d)", name, len(v), MaxLineSize)
					}
					return v, b.spend(len(v))
				}
			}
			if len(def) > 0 {
				return def[0], nil
			}
			return "", fmt.Errorf("environment variable %s is not set (give a default: env %q \"VALUE\")", name, name)
		},
		"mul": func(a any, rest ...any) (int, error) { return fold("mul", a, rest, mulChecked) },
		"add": func(a any, rest ...any) (int, error) { return fold("add", a, rest, addChecked) },
		"max": func(a any, rest ...any) (int, error) {
			return fold("max", a, rest, func(x, y int) (int, bool) { return max(x, y), true })
		},
		"min": func(a any, rest ...any) (int, error) {
			return fold("min", a, rest, func(x, y int) (int, bool) { return min(x, y), true })
		},
		"printf": func(format string, args ...any) (string, error) {
			if err := b.spend(printfBound(format, args)); err != nil {
				return "", err
			}
			return fmt.Sprintf(format, args...), nil
		},
		"print": func(args ...any) (string, error) {
			if err := b.spend(printBound(args)); err != nil {
				return "", err
			}
			return fmt.Sprint(args...), nil
		},
		"println": func(args ...any) (string, error) {
			if err := b.spend(printBound(args)); err != nil {
				return "", err
			}
			return fmt.Sprintln(args...), nil
		},
	}
}

// mulChecked and addChecked report false when the result overflows an int,
// which would wrap to a negative or tiny number: maxconnrate -2 reads as
// 4294967294 to haproxy, and a wrapped 0 as no limit at all.
func mulChecked(x, y int) (int, bool) {
	if x == 0 || y == 0 {
		return 0, true
	}
	p := x * y
	if p/y != x || (x == -1 && y == math.MinInt) || (y == -1 && x == math.MinInt) {
		return 0, false
	}
	return p, true
}

func addChecked(x, y int) (int, bool) {
	s := x + y
	if (y > 0 && s < x) || (y < 0 && s > x) {
		return 0, false
	}
	return s, true
}

func fold(name string, a any, rest []any, op func(x, y int) (int, bool)) (int, error) {
	acc, err := toInt(a)
	if err != nil {
		return 0, err
	}
	for _, b := range rest {
		n, err := toInt(b)
		if err != nil {
			return 0, err
		}
		r, ok := op(acc, n)
		if !ok {
			return 0, fmt.Errorf("%s of %d and %d overflows a 64-bit integer", name, acc, n)
		}
		acc = r
	}
	return acc, nil
}

// toInt accepts integers and integer strings (such as an env value).
func toInt(v any) (int, error) {
	switch x := v.(type) {
	case int:
		return x, nil
	case int64:
		return int(x), nil
	case string:
		n, err := strconv.Atoi(strings.TrimSpace(x))
		if err != nil {
			return 0, fmt.Errorf("%q is not an integer", x)
		}
		return n, nil
	}
	return 0, fmt.Errorf("%v is not an integer", v)
}

// printfSlack covers what a verb adds beyond its argument and its width and
// precision: a number's digits (64 in binary), a sign, a prefix, or the
// "%!d(string=...)" of a mismatched verb.
const printfSlack = 80

// printfBound is an upper bound of the length of fmt.Sprintf(format,
// args...), computed without formatting: each verb prints one argument at
// most, at most four times its length (%q escapes a byte as \x00), padded
// to its width and precision (fmt caps each at 1e6; a * takes one from an
// argument). Charging the bound before formatting keeps "%0999999d" from
// allocating a megabyte, and %[1]s repeated from printing one long
// argument thousands of times.
func printfBound(format string, args []any) int {
	// Without explicit argument indexes verb k prints argument k; with them
	// any verb may print the longest one.
	indexed := strings.IndexByte(format, '[') >= 0
	widest, star := 0, 0
	for _, a := range args {
		widest = max(widest, argBound(a))
		if n, ok := a.(int); ok {
			star = max(star, min(abs(n), 1e6))
		}
	}
	total, k := len(format), 0
	for i := 0; i < len(format); i++ {
		if format[i] != '%' {
			continue
		}
		pad, num := 0, 0
		j := i + 1
		for ; j < len(format); j++ {
			c := format[j]
			if c >= '0' && c <= '9' {
				num = min(num*10+int(c-'0'), 1e6)
				continue
			}
			pad, num = pad+num, 0
			if c == '*' {
				pad += star
				k++
				continue
			}
			if strings.IndexByte("+-# .[]", c) < 0 {
				break // the verb
			}
		}
		pad += num
		verb := byte('v')
		if j < len(format) {
			verb = format[j]
		}
		arg := widest
		if !indexed {
			arg = 0
			if k < len(args) {
				arg = argBound(args[k])
			}
		}
		if verb != '%' {
			k++
		}
		total += pad + printfSlack + expansion(verb)*arg
		i = j
	}
	// Arguments no verb printed are appended, "%!(EXTRA int=1, ...)",
	// unless the format names arguments by index.
	if !indexed && k < len(args) {
		for _, a := range args[k:] {
			total += argBound(a) + 16
		}
	}
	return total
}

// expansion is how many bytes a verb may print per byte of its argument.
func expansion(verb byte) int {
	switch verb {
	case 'q', 'x', 'X', 'U':
		return 4
	case '%':
		return 0
	}
	return 1
}

// printBound is an upper bound of the length of fmt.Sprint(args...) and
// fmt.Sprintln(args...).
func printBound(args []any) int {
	total := 1
	for _, a := range args {
		total += argBound(a) + 1
	}
	return total
}

// argBound is an upper bound of the length of a template value printed
// with %v.
func argBound(a any) int {
	switch x := a.(type) {
	case string:
		return len(x)
	case nil, bool, int, int64:
		return 64
	case float64, complex128:
		// %f of 1e300 prints all its 301 digits, twice for a complex.
		return 700
	}
	// The context (.): its section name comes from the config, not the
	// snippet.
	return len(fmt.Sprint(a))
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
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
