package patch

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"text/template"
	"text/template/parse"
	"unicode/utf8"
)

// MaxLineSize bounds what one snippet line's template may produce; far more
// than any directive needs, and small enough that a runaway template fails
// fast instead of holding up haproxy's start. It bounds a template's own
// text, and every value a function in it builds, too.
const MaxLineSize = 16 << 10

// A template runs once per section its line is written into, at every
// haproxy start and reload, so its cost is bounded three ways. At load, a
// line's template may have at most maxTemplateNodes parse nodes, and no
// range, define, template or block: without them nothing repeats, so one
// evaluation visits each node once at most. While it runs, the functions of
// one evaluation may build at most maxEvalBytes of text. And all the
// evaluations of one patch together may visit maxPatchSteps nodes and build
// maxPatchBytes, so that a snippet with thousands of templated lines edited
// into thousands of sections still fails fast instead of stalling a start.
//
// Parsing is linear, but costs about a microsecond per part, so the
// templates of one snippet may have maxSnippetNodes parts in all.
const (
	maxTemplateNodes = 256
	maxSnippetNodes  = 1 << 16
	maxEvalBytes     = 4 * MaxLineSize
	maxPatchSteps    = 1 << 21
	maxPatchBytes    = 32 << 20
)

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
// run unbounded (see maxTemplateNodes), and returns its number of parse
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
		if nodes > maxTemplateNodes {
			return fmt.Errorf("the template has more than %d parts; a line is one directive", maxTemplateNodes)
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

// errLineTooLong stops a template whose output, or a value built on the way
// to it, passes MaxLineSize.
var errLineTooLong = fmt.Errorf("the line is longer than %d bytes", MaxLineSize)

// errEvalBudget stops one evaluation that builds more text than any line
// needs, in values no longer than a line each.
var errEvalBudget = fmt.Errorf("the template builds more than %d bytes of text; a line holds at most %d", maxEvalBytes, MaxLineSize)

// maxPatchWritten bounds the bytes the lines snippets write into one config
// add up to: a snippet within its 1 MiB, edited into every backend of a
// large config, would otherwise multiply into gigabytes. It is the limit of
// a generated config, far more than any real patch writes.
const maxPatchWritten = 64 << 20

// patchBudget is what all the template evaluations of one patch may spend,
// and what all the lines it writes add up to.
type patchBudget struct {
	steps, bytes int
	// written counts the bytes of the lines snippets wrote.
	written int
	// spent is set once the budget is passed: the template that passed it
	// has the message, and every later one fails with errPatchBudgetSpent,
	// unreported, rather than adding a message per section.
	spent bool
}

// errPatchBudgetSpent fails the templates that run after the patch's
// budget is spent.
var errPatchBudgetSpent = errors.New("the templates of this patch spent their budget")

// start charges the nodes of a template about to run, the most it can visit.
func (p *patchBudget) start(nodes int) error {
	if p.spent {
		return errPatchBudgetSpent
	}
	p.steps += nodes
	if p.steps > maxPatchSteps {
		p.spent = true
		return fmt.Errorf("the templates of this patch visit more than %d steps (too many templated lines times the sections they edit)", maxPatchSteps)
	}
	return nil
}

// spend charges n bytes of built text.
func (p *patchBudget) spend(n int) error {
	if p.spent {
		return errPatchBudgetSpent
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
	patch *patchBudget
}

// spend charges a value of n bytes about to be built: one longer than a
// line is refused before it is built, as is one past the budgets.
func (e *evalBudget) spend(n int) error {
	if n > MaxLineSize {
		return errLineTooLong
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
		return 0, errLineTooLong
	}
	return b.Builder.Write(p)
}

// TemplateContext is what snippet lines can use in {{ }} actions.
type TemplateContext struct {
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

// templateFuncs returns env, mul, add, max, min and the bounded printf,
// print and println, each charging b. getenv and b may be nil at parse
// time, when only the names matter.
func templateFuncs(getenv func(string) (string, bool), b *evalBudget) template.FuncMap {
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

// maxQuoted is how much of a template an error message quotes.
const maxQuoted = 120

// shortText is a template's text for a message: one longer than maxQuoted
// bytes is cut, so that an error does not repeat a line of 16 KiB.
func shortText(s string) string {
	if len(s) <= maxQuoted {
		return s
	}
	cut := maxQuoted
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// serverCount counts distinct non-backup server names and server-template
// slots in the given sections. (Sorting the names' hashes instead of filling
// a map was tried: no faster. The cost is reading every line of the file.)
// The map is sized up front from the sections' line counts, an upper bound
// for plain servers: growing it was a tenth of a 4096-server render.
func serverCount(sections []*Section) int {
	hint := 0
	for _, s := range sections {
		if s.Kind == "backend" || s.Kind == "listen" {
			hint += len(s.Body)
		}
	}
	if len(sections) == 1 {
		// One section, as for .Section.Servers: counted once per templated
		// line it is edited with, so its map is sized by its server lines,
		// not by every line a snippet may have added to it.
		hint = 0
		for _, l := range sections[0].Body {
			if w := l.Words; len(w) > 0 && (w[0] == "server" || w[0] == "server-template") {
				hint++
			}
		}
	}
	names := make(map[string]struct{}, hint)
	for _, s := range sections {
		if s.Kind != "backend" && s.Kind != "listen" {
			continue
		}
		for _, l := range s.Body {
			w := l.Words
			switch {
			case len(w) >= 3 && w[0] == "server" && !hasWord(w[3:], "backup"):
				names[w[1]] = struct{}{}
			case len(w) >= 4 && w[0] == "server-template" && !hasWord(w[4:], "backup"):
				lo, hi := templateRange(w[2])
				for i := lo; i <= hi; i++ {
					names[w[1]+strconv.Itoa(i)] = struct{}{}
				}
			}
		}
	}
	return len(names)
}

// templateRange reads server-template's "N" or "LOW-HIGH".
func templateRange(s string) (int, int) {
	if a, b, ok := strings.Cut(s, "-"); ok {
		lo, err1 := strconv.Atoi(a)
		hi, err2 := strconv.Atoi(b)
		if err1 == nil && err2 == nil && lo <= hi && hi-lo < 1<<16 {
			return lo, hi
		}
		return 1, 0
	}
	n, err := strconv.Atoi(s)
	if err != nil || n > 1<<16 {
		return 1, 0
	}
	return 1, n
}

func hasWord(words []string, w string) bool {
	for _, x := range words {
		if x == w {
			return true
		}
	}
	return false
}
