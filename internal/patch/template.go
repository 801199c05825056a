package patch

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"text/template"
	"text/template/parse"
)

// MaxLineSize bounds what one snippet line's template may produce; far more
// than any directive needs, and small enough that a runaway template fails
// fast instead of holding up haproxy's start.
const MaxLineSize = 16 << 10

// checkTemplate refuses range: a snippet line is one directive, and range
// over an integer (Go 1.22) can loop for as long as it likes.
func checkTemplate(t *template.Template) error {
	var walk func(n parse.Node) error
	walk = func(n parse.Node) error {
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
		case *parse.IfNode:
			return walkBranch(walk, &n.BranchNode)
		case *parse.WithNode:
			return walkBranch(walk, &n.BranchNode)
		}
		return nil
	}
	for _, x := range t.Templates() {
		if x.Tree != nil {
			if err := walk(x.Tree.Root); err != nil {
				return err
			}
		}
	}
	return nil
}

func walkBranch(walk func(parse.Node) error, b *parse.BranchNode) error {
	if err := walk(b.List); err != nil {
		return err
	}
	if b.ElseList != nil {
		return walk(b.ElseList)
	}
	return nil
}

// errLineTooLong stops a template whose output passes MaxLineSize.
var errLineTooLong = fmt.Errorf("the line is longer than %d bytes", MaxLineSize)

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

// templateFuncs returns env, mul, add, max and min. getenv may be nil at
// parse time, when only the names matter.
func templateFuncs(getenv func(string) (string, bool)) template.FuncMap {
	return template.FuncMap{
		"env": func(name string, def ...string) (string, error) {
			if getenv != nil {
				if v, ok := getenv(name); ok {
					return v, nil
				}
			}
			if len(def) > 0 {
				return def[0], nil
			}
			return "", fmt.Errorf("environment variable %s is not set (give a default: env %q \"VALUE\")", name, name)
		},
		"mul": func(a any, b ...any) (int, error) { return fold(a, b, func(x, y int) int { return x * y }) },
		"add": func(a any, b ...any) (int, error) { return fold(a, b, func(x, y int) int { return x + y }) },
		"max": func(a any, b ...any) (int, error) {
			return fold(a, b, func(x, y int) int { return max(x, y) })
		},
		"min": func(a any, b ...any) (int, error) {
			return fold(a, b, func(x, y int) int { return min(x, y) })
		},
	}
}

func fold(a any, rest []any, op func(x, y int) int) (int, error) {
	acc, err := toInt(a)
	if err != nil {
		return 0, err
	}
	for _, b := range rest {
		n, err := toInt(b)
		if err != nil {
			return 0, err
		}
		acc = op(acc, n)
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
