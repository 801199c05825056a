package hapkw

import (
	"strings"

	"github.com/serve-launch/serve-launch/internal/patch/config"
)

// Uses returns the catalog's keywords that a directive (its words) in a
// section of kind writes: a global keyword, a proxy keyword (the longest
// that matches, "option httpchk" rather than "option"), an action of an
// http-request, http-response or http-after-response rule, and the
// parameters of a bind, server, default-server or server-template line.
// Other sections (peers, resolvers, ...) are not in the catalog.
func Uses(kind string, words []string) []Keyword {
	if len(words) == 0 {
		return nil
	}
	switch kind {
	case "global":
		return longest(Global, words)
	case "defaults", "frontend", "backend", "listen":
	default:
		return nil
	}
	// "no option X" and "default option X" are option X (the matrix's (*)).
	if (words[0] == "no" || words[0] == "default") && len(words) > 1 {
		words = words[1:]
	}
	out := longest(Proxy, words)
	switch words[0] {
	case "http-request", "http-response", "http-after-response":
		if len(words) > 1 {
			out = appendKnown(out, Context(words[0]), words[1])
		}
	case "bind":
		out = params(out, BindParam, words, 2)
	case "server":
		out = params(out, ServerParam, words, 3)
	case "server-template":
		out = params(out, ServerParam, words, 4)
	case "default-server":
		out = params(out, ServerParam, words, 1)
	}
	return out
}

// longest looks up the first three, two, then one words as a keyword.
func longest(c Context, words []string) []Keyword {
	for n := min(3, len(words)); n > 0; n-- {
		if k, ok := Lookup(c, strings.Join(words[:n], " ")); ok {
			return []Keyword{k}
		}
	}
	return nil
}

// params looks up every word from start on as a parameter. Without each
// parameter's arity, a value is looked up too; values that are also
// parameter names are rare, and config.SplitParams's list of flags misses
// flags newer than it (check-reuse-pool), which would hide the next one.
func params(out []Keyword, c Context, words []string, start int) []Keyword {
	for i := start; i < len(words); i++ {
		out = appendKnown(out, c, words[i])
	}
	return out
}

// appendKnown appends word's keyword of context c when the catalog has it;
// "sc-inc-gpc0(0)" and "set-proxy-v2-tlv-fmt(0x20)" are looked up by the
// name before the parenthesis.
func appendKnown(out []Keyword, c Context, word string) []Keyword {
	name, _, _ := strings.Cut(word, "(")
	if k, ok := Lookup(c, name); ok {
		out = append(out, k)
	}
	return out
}

// Finding is a keyword of a line a snippet wrote that the target lacks.
type Finding struct {
	// Pos is the snippet's file:line that wrote the line.
	Pos     config.Position
	Keyword Keyword
	// Problem says why: "stats-file needs HAProxy 3.0; the target is 2.8".
	Problem string
}

func (f Finding) String() string { return f.Pos.String() + ": " + f.Problem }

// Check returns a finding for each keyword, of each line a snippet wrote
// into f (a line whose position is not in f), that target lacks: one that
// needs a newer HAProxy, or one removed before or in target. Ray's own
// lines are Ray's business, not the snippets'.
func Check(f *config.File, target Version) []Finding {
	var out []Finding
	for _, s := range f.Sections {
		for _, l := range s.Body {
			if l.Pos.File == f.Name || !l.IsDirective() {
				continue
			}
			for _, k := range Uses(s.Kind, l.Words()) {
				if p := k.Problem(target); p != "" {
					out = append(out, Finding{Pos: l.Pos, Keyword: k, Problem: p})
				}
			}
		}
	}
	return out
}

// Explain returns the keyword of f's n-th line (as haproxy numbers the
// lines) that have lacks and want has: why a haproxy of version have
// refuses a line that HAProxy want accepts.
func Explain(f *config.File, n int, have, want Version) (Keyword, bool) {
	i := len(f.Preamble)
	for _, s := range f.Sections {
		if i++; i == n {
			return Keyword{}, false
		}
		for _, l := range s.Body {
			if i++; i != n {
				continue
			}
			for _, k := range Uses(s.Kind, l.Words()) {
				if !k.InVersion(have) && k.InVersion(want) {
					return k, true
				}
			}
			return Keyword{}, false
		}
	}
	return Keyword{}, false
}
