package snippet

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode"

	"github.com/serve-launch/serve-launch/internal/patch/config"
	"github.com/serve-launch/serve-launch/internal/patch/tmpl"
)

// What a snippet line may say: the rules a literal line is held to at load
// and a templated one once it is rendered (the engine calls CheckLine,
// SetProblem and AddProblem on a template's output).

// isParamName reports whether s looks like HAProxy's server and bind
// keywords: ^[a-z][a-z0-9._-]*$, without a regexp to compile on every shim
// start.
func isParamName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z':
		case i > 0 && ('0' <= c && c <= '9' || c == '.' || c == '_' || c == '-'):
		default:
			return false
		}
	}
	return s != ""
}

// checkParams refuses parameters that would not read back the same way from
// the merged line: config.ParseParams takes any word that is not a known
// flag as a name followed by its value, so an unknown flag (or a stray
// value) would swallow the next parameter the next time the line is merged.
func checkParams(ps []config.Param) error {
	for _, p := range ps {
		if !isParamName(p.Name) {
			return fmt.Errorf("%q is not a parameter name", p.Name)
		}
		if p.Flag && !config.IsParamFlag(p.Name) {
			return fmt.Errorf("%q has no value and is not a flag serve-launch knows (check, backup, disabled, ssl, ...)", p.Name)
		}
		if limit, ok := serverLimits[p.Name]; ok && !p.Flag {
			if msg := integerProblem(p.Name, p.Value, limit); msg != "" {
				return errors.New(msg)
			}
		}
	}
	return nil
}

// setAndDeleted returns a parameter name both in set and in delete, or "".
func setAndDeleted(set []config.Param, del []string) string {
	for _, p := range set {
		if slices.Contains(del, p.Name) {
			return p.Name
		}
	}
	return ""
}

// paramKeywordsMatch reports whether an "on" glob can match a keyword that
// takes parameters.
func paramKeywordsMatch(g *Glob) bool {
	return slices.ContainsFunc(config.ParamKeywords(), g.Match)
}

// CheckLine refuses a line that would not stay one directive of the
// section it is written into, or whose number haproxy would not read as
// written.
func CheckLine(text string) error {
	if len(text) > tmpl.MaxLineSize {
		return fmt.Errorf("line of %d bytes is longer than the limit of %d", len(text), tmpl.MaxLineSize)
	}
	if strings.ContainsAny(text, "\r\n") {
		return fmt.Errorf("line %q holds a line break: give one directive per string", text)
	}
	// HAProxy splits words on spaces and tabs only, Go's strings.Fields on
	// any Unicode space: a form feed or a no-break space would make one line
	// read differently on the next run (the fuzzer found "\f" added twice).
	for _, r := range text {
		if r != ' ' && r != '\t' && (unicode.IsControl(r) || unicode.IsSpace(r)) {
			return fmt.Errorf("line %q holds the control or space character %U: use plain spaces", text, r)
		}
	}
	tok, err := config.Tokenize(text)
	if err != nil {
		return fmt.Errorf("line %q: %v", text, err)
	}
	if len(tok.Words) == 0 {
		return fmt.Errorf("line %q has no directive", text)
	}
	if config.IsSectionKeyword(tok.Words[0]) {
		return fmt.Errorf("line %q would open a new section: use [[section]] to add one", text)
	}
	if p := numericProblem(tok.Words); p != "" {
		return fmt.Errorf("line %q: %s", text, p)
	}
	return nil
}

// SetProblem says why `set` of a line with these words cannot work, or "".
// Literal lines are checked at load; templated ones when they are rendered.
func SetProblem(words []string) string {
	if len(words) > 0 && config.IsListKey(config.Key(words)) {
		return fmt.Sprintf("set: %q lines form an ordered rule list; use add, insert or delete", words[0])
	}
	return ""
}

// AddProblem says why `add` of a line with these words to a section of kind
// cannot work, or "": a second line of a global first-wins keyword would
// silently do nothing (see config.GlobalFirstWins).
func AddProblem(kind string, words []string) string {
	if kind == "global" && len(words) > 0 && config.GlobalFirstWins(words[0]) {
		return fmt.Sprintf("add: global %s is first-wins in HAProxy (a second line is ignored); use set to replace it", words[0])
	}
	return ""
}

func checkSetLine(pos config.Position, text string, errs *config.ErrorList) {
	if tok, err := config.Tokenize(text); err == nil {
		if p := SetProblem(tok.Words); p != "" {
			errs.Add(pos, "%s", p)
		}
	}
}

func checkAddLine(pos config.Position, kind, text string, errs *config.ErrorList) {
	if tok, err := config.Tokenize(text); err == nil {
		if p := AddProblem(kind, tok.Words); p != "" {
			errs.Add(pos, "%s", p)
		}
	}
}
