package snippet

import (
	"fmt"
	"regexp"
	"strings"
)

// Glob is a shell-style pattern: '*' matches any run of characters (spaces and
// slashes included, since rules like "http-request set-log-level *" span words),
// '?' one character, '[...]' a class, and a backslash escapes the next character.
type Glob struct {
	pattern string
	// stars holds the literal parts between the '*'s of a pattern with no
	// other wildcard ("*", "http-*", "default-server"), matched without a
	// regexp: compiling one would be most of the cost of loading a snippet,
	// and the shim loads every snippet on every haproxy start.
	stars []string
	re    *regexp.Regexp
}

// compileGlob compiles pattern; an error says what is wrong with it.
func compileGlob(pattern string) (*Glob, error) {
	if !strings.ContainsAny(pattern, `?[\`) {
		return &Glob{pattern: pattern, stars: strings.Split(pattern, "*")}, nil
	}
	re, err := globRegexp(pattern)
	if err != nil {
		return nil, err
	}
	return &Glob{pattern: pattern, re: re}, nil
}

// globRegexp translates any glob, classes and escapes included.
func globRegexp(pattern string) (*regexp.Regexp, error) {
	var b strings.Builder
	b.WriteString(`^`)
	for i := 0; i < len(pattern); i++ {
		switch c := pattern[i]; c {
		case '*':
			b.WriteString(`.*`)
		case '?':
			b.WriteString(`.`)
		case '[':
			end := strings.IndexByte(pattern[i+1:], ']')
			if end == 0 { // "[]...]": a ']' first is part of the class
				if e := strings.IndexByte(pattern[i+2:], ']'); e >= 0 {
					end = e + 1
				} else {
					end = -1
				}
			}
			if end < 0 {
				return nil, fmt.Errorf("bad glob %q: '[' without ']'", pattern)
			}
			class := pattern[i+1 : i+1+end]
			if strings.HasPrefix(class, "!") {
				class = "^" + class[1:]
			}
			b.WriteString("[" + strings.ReplaceAll(class, `\`, `\\`) + "]")
			i += end + 1
		case '\\':
			if i+1 < len(pattern) {
				i++
			}
			b.WriteString(regexp.QuoteMeta(pattern[i : i+1]))
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	b.WriteString(`$`)
	re, err := regexp.Compile(b.String())
	if err != nil {
		return nil, fmt.Errorf("bad glob %q: %v", pattern, err)
	}
	return re, nil
}

// Match reports whether s matches the whole pattern.
func (g *Glob) Match(s string) bool {
	if g.re != nil {
		return g.re.MatchString(s)
	}
	parts := g.stars
	if len(parts) == 1 {
		return s == parts[0]
	}
	first, last := parts[0], parts[len(parts)-1]
	if len(s) < len(first)+len(last) || !strings.HasPrefix(s, first) || !strings.HasSuffix(s, last) {
		return false
	}
	// The middle parts in order, each as early as it can be: a '*' matches
	// anything, so the earliest match leaves the most room for the rest.
	rest := s[len(first) : len(s)-len(last)]
	for _, p := range parts[1 : len(parts)-1] {
		i := strings.Index(rest, p)
		if i < 0 {
			return false
		}
		rest = rest[i+len(p):]
	}
	return true
}

// Literal reports whether the pattern has no wildcard, so it names one thing.
func (g *Glob) Literal() bool { return !strings.ContainsAny(g.pattern, `*?[\`) }

// Pattern is the glob as written.
func (g *Glob) Pattern() string { return g.pattern }
