package migrate

import (
	"strings"

	"github.com/serve-launch/serve-launch/internal/patch/config"
)

// Their config may say one thing several times: a key in their defaults
// and again in a backend, twice in one section, or in two backends that
// Ray's one set of application backends merges. Every carrier (a variable,
// a snippet line, a default-server parameter, the http-check rules) keeps
// the value in effect, as HAProxy reads their config, through judge.

// claim is what an earlier line of theirs carries for a key: the line and
// where it stands in their config.
type claim struct {
	prec int
	sec  *config.Section // their section the line is in
	row  *Row
	from string // "NAME:LINE: text", see migrator.from
}

// verdict is how a later line of theirs stands against an earlier claim on
// the same key.
type verdict int

const (
	// overrides: the later line is in a more specific section (a backend
	// over their defaults) and takes the key.
	overrides verdict = iota
	// replaces: the same scope, where HAProxy uses the later line.
	replaces
	// ignored: the same global scope and a first-wins keyword, where
	// HAProxy keeps the earlier line and ignores the later one.
	ignored
	// conflicts: equal precedence in different scopes (two backends): one
	// carrier of Ray's cannot hold both values.
	conflicts
)

// judge says how their later line of keyword, of precedence prec in
// section sec, stands against the earlier claim prev on the same key.
func judge(prev claim, prec int, sec *config.Section, keyword string) verdict {
	switch {
	case prec > prev.prec:
		return overrides
	case !sameScope(prev.sec, sec):
		return conflicts
	case sec != nil && sec.Kind == "global" && config.GlobalFirstWins(keyword):
		return ignored
	}
	return replaces
}

// settle writes a verdict other than conflicts into the report: the
// earlier row is not carried when the later line of keyword (from, in row
// r) takes the key, r is not when HAProxy ignores it. It reports whether
// the later line takes the key; a conflict, false, is the caller's to word.
func (m *migrator) settle(v verdict, prev claim, r *Row, keyword, from string) bool {
	switch v {
	case overrides:
		prev.row.How, prev.row.Detail = NotCarried, "overridden in their config by "+posOf(from)
	case replaces:
		prev.row.How, prev.row.Detail = NotCarried, "overridden in their config by "+posOf(from)+" (the later line wins in HAProxy)"
	case ignored:
		m.notCarried(r, "HAProxy keeps the first global %s line (%s) and ignores this one", keyword, posOf(prev.from))
		return false
	default:
		return false
	}
	return true
}

// sameScope tells whether two of their sections are one scope, where a
// later line replaces an earlier one with the same key: the same section, or
// two global sections (HAProxy merges them).
func sameScope(a, b *config.Section) bool {
	return a == b || a != nil && b != nil && a.Kind == "global" && b.Kind == "global"
}

// posOf returns "line LINE" for a "NAME:LINE: text" from-string: the
// report names their config once, in its title, and every line of it by
// number.
func posOf(from string) string {
	pos, _, _ := strings.Cut(from, ": ")
	if i := strings.LastIndexByte(pos, ':'); i >= 0 {
		return "line " + pos[i+1:]
	}
	return pos
}
