package patch

import (
	"fmt"
	"strconv"
	"strings"
	"text/template"
)

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
// slots in the given sections.
func serverCount(sections []*Section) int {
	names := map[string]bool{}
	for _, s := range sections {
		if s.Kind != "backend" && s.Kind != "listen" {
			continue
		}
		for _, l := range s.Body {
			w := l.Words
			switch {
			case len(w) >= 3 && w[0] == "server" && !hasWord(w[3:], "backup"):
				names[w[1]] = true
			case len(w) >= 4 && w[0] == "server-template" && !hasWord(w[4:], "backup"):
				lo, hi := templateRange(w[2])
				for i := lo; i <= hi; i++ {
					names[fmt.Sprintf("%s%d", w[1], i)] = true
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
