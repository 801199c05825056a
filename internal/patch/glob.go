package patch

import (
	"fmt"
	"regexp"
	"strings"
)

// glob is a shell-style pattern: '*' matches any run of characters (spaces and
// slashes included, since rules like "http-request set-log-level *" span words),
// '?' one character, '[...]' a class, and a backslash escapes the next character.
type glob struct {
	pattern string
	re      *regexp.Regexp
}

func compileGlob(pattern string) (*glob, error) {
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
	return &glob{pattern: pattern, re: re}, nil
}

func (g *glob) match(s string) bool { return g.re.MatchString(s) }

// literal reports whether the pattern has no wildcard, so it names one thing.
func (g *glob) literal() bool { return !strings.ContainsAny(g.pattern, `*?[\`) }
