package patch

import (
	"slices"
	"strings"

	"github.com/serve-launch/serve-launch/internal/patch/config"
	"github.com/serve-launch/serve-launch/internal/patch/snippet"
)

func (a *applier) edit(sn *snippet.Snippet, e *snippet.Edit) {
	a.file = nil // counted as the file stands when the edit starts
	var matched []*config.Section
	for _, s := range a.f.Sections {
		if e.Sel.Match(s) && !excluded(e.Exclude, s.Name) {
			matched = append(matched, s)
		}
	}
	if len(matched) == 0 {
		switch {
		case e.Optional:
		case e.Sel.Kind == "backend" && a.firstStart():
			// Ray starts haproxy before its first routes arrive, on a
			// config whose only backend is default_backend; the apps come
			// with the next reload, which this edit then finds. Failing
			// here would fail every first start Ray makes. (The preflight
			// checks the snippets on a config with an app, where a
			// selector that matches nothing is still an error.)
		case len(a.f.Sections) == 0:
			// Ray's configs always have sections: the mistake is the file
			// given, not the snippet, so optional is no advice here.
			a.errs.Add(e.Pos, "section %q matches no section; the config has no sections at all (is it a haproxy config?)", e.Sel.String())
		default:
			a.errs.Add(e.Pos, "section %q matches no section; the config has: %s (set optional = true if that is fine)",
				e.Sel.String(), a.titles())
		}
		return
	}
	guard := !e.Force && mayTripGuard(e)
	var before map[string]string
	if guard {
		before = guardFacts(matched)
	}
	intrude := !e.Force && mayIntrude(e)
	var view *rayView
	var intrusions map[string]string
	if intrude {
		view = newRayView(a.f)
		intrusions = view.intrusions(matched)
	}
	n := len(a.errs)
	for _, s := range matched {
		if a.written > maxPatchWritten {
			return // said where it was passed
		}
		a.editSection(e, s)
		if a.written > maxPatchWritten {
			a.errs.Add(e.Pos, "edit of %q makes the lines snippets write add up to more than %d bytes (its lines times the sections it matches)", e.Sel.String(), maxPatchWritten)
			return
		}
	}
	if len(a.errs) > n {
		return
	}
	if guard {
		if lost := lostFacts(before, guardFacts(matched)); len(lost) > 0 {
			a.errs.Add(e.Pos, "edit of %q removes or changes what Ray depends on: %s; set force = true on the edit if you mean it",
				e.Sel.String(), strings.Join(lost, "; "))
		}
	}
	if intrude {
		if added := newIntrusions(intrusions, view.intrusions(matched)); len(added) > 0 {
			a.errs.Add(e.Pos, "edit of %q adds what takes over from Ray: %s; set force = true on the edit if you mean it",
				e.Sel.String(), strings.Join(added, "; "))
		}
	}
}

func excluded(globs []*snippet.Glob, name string) bool {
	return slices.ContainsFunc(globs, func(g *snippet.Glob) bool { return g.Match(name) })
}

// firstStart reports whether the file is Ray's config before any route:
// default_backend is its only backend. A file with no backend at all (no
// sections, or not Ray's) is not, so a selector there still fails.
func (a *applier) firstStart() bool {
	found := false
	for _, s := range a.f.Sections {
		if s.Kind == "backend" {
			if s.Name != "default_backend" {
				return false
			}
			found = true
		}
	}
	return found
}

func (a *applier) titles() string {
	var t []string
	for _, s := range a.f.Sections {
		t = append(t, s.Title())
	}
	if len(t) == 0 {
		return "no sections"
	}
	return strings.Join(t, ", ")
}

func (a *applier) editSection(e *snippet.Edit, s *config.Section) {
	for _, d := range e.Delete {
		a.delete(s, d)
	}
	for _, v := range e.Set {
		if text, ok := a.render(v, s); ok {
			a.set(s, text, v.Pos, e.Force)
		}
	}
	for _, v := range e.Add {
		if text, ok := a.render(v, s); ok {
			a.add(s, text, v.Pos)
		}
	}
	for _, op := range e.Insert {
		a.insert(e, s, op)
	}
	for _, op := range e.Params {
		a.params(e, s, op)
	}
}

// lastDirective is the index after which set and add append: after the last
// line with words, so trailing blank lines and comments stay at the end.
func lastDirective(s *config.Section) int {
	for i := len(s.Body) - 1; i >= 0; i-- {
		if s.Body[i].IsDirective() {
			return i
		}
	}
	return -1
}

// set replaces the lines of text's key in s with text (the first in place,
// later ones removed), or adds it. Unless force, it refuses to replace a
// parameter line of Ray's with one that drops parameters (see
// [applier.dropsRayParams]).
func (a *applier) set(s *config.Section, text string, pos config.Position, force bool) {
	tok := a.parse(text)
	if tok.list {
		a.errs.Add(pos, "%s", snippet.SetProblem(tok.words))
		return
	}
	key := tok.key
	first, more := -1, false
	for i, l := range s.Body {
		if l.Key() == key {
			if first >= 0 {
				more = true
				break
			}
			first = i
		}
	}
	if first < 0 {
		s.Insert(lastDirective(s)+1, a.newLineOf(s, s.Indent(), text, tok, pos))
		return
	}
	if l := s.Body[first]; !l.SameWords(tok.words) {
		if !force && a.dropsRayParams(s, l, tok.words, pos) {
			return
		}
		s.Body[first] = a.newLineOf(s, l.Indent(), text, tok, pos)
	} else {
		if a.setKept == nil {
			a.setKept = map[*config.Line]config.Position{}
		}
		a.setKept[l] = pos
	}
	if more {
		// Later lines with the key are removed.
		kept := s.Body[:first+1]
		for _, l := range s.Body[first+1:] {
			if l.Key() != key {
				kept = append(kept, l)
			}
		}
		clear(s.Body[len(kept):])
		s.Body = kept
	}
}

func (a *applier) add(s *config.Section, text string, pos config.Position) {
	tok := a.parse(text)
	if p := snippet.AddProblem(s.Kind, tok.words); p != "" {
		a.errs.Add(pos, "%s", p)
		return
	}
	at := lastDirective(s) + 1
	var keyed *config.Line // the first line with the same key
	for i, l := range s.Body {
		if l.SameWords(tok.words) {
			return // already there: add is idempotent
		}
		// A rule joins the end of its own list, so that it keeps rule order
		// (an http-request after a use_backend draws a warning from haproxy).
		if tok.list && l.IsDirective() && l.Keyword() == tok.words[0] {
			at = i + 1
		}
		if keyed == nil && !tok.list && l.Key() == tok.key && tok.key != "" {
			keyed = l
		}
	}
	// A second line with a key a set keeps to one: the set of the next
	// patch of this file would remove it again and the add put it back
	// elsewhere, and haproxy would read only one of the two anyway.
	setAt, kept := a.setKept[keyed]
	if keyed != nil && (a.setPos[keyed.Pos] || kept) {
		if !kept {
			setAt = keyed.Pos
		}
		a.errs.Add(pos, "add: %q adds a second %q line to %s, which set at %s keeps to one line; drop the add or the set",
			strings.TrimSpace(text), tok.key, s.Title(), setAt)
		return
	}
	s.Insert(at, a.newLineOf(s, s.Indent(), text, tok, pos))
}

func (a *applier) delete(s *config.Section, g *snippet.Glob) {
	kept := s.Body[:0:0]
	for _, l := range s.Body {
		if l.IsDirective() && (g.Match(l.Key()) || (s.IsList(l) && g.Match(strings.Join(l.Words(), " ")))) {
			continue
		}
		kept = append(kept, l)
	}
	s.Body = kept
}

func (a *applier) insert(e *snippet.Edit, s *config.Section, op snippet.Insert) {
	at := -1
	for i, l := range s.Body {
		if l.IsDirective() && op.Anchor.Match(strings.Join(l.Words(), " ")) {
			if op.Before {
				at = i
				break
			}
			at = i + 1
		}
	}
	if at < 0 {
		// On Ray's first start, before any route, the lines an anchor names
		// may not exist yet (the use_backend rules of http_frontend): the
		// insert lands at the reload that brings the apps, as edits of
		// app backends do.
		if !e.Optional && !a.firstStart() {
			where := "after"
			if op.Before {
				where = "before"
			}
			a.errs.Add(op.Pos, "insert %s %q: no line of %s matches", where, op.Anchor.Pattern(), s.Title())
		}
		return
	}
	var lines []*config.Line
	for _, v := range op.Lines {
		text, ok := a.render(v, s)
		if !ok {
			continue
		}
		if a.has(s, a.parse(text).words) {
			continue // already inserted by an earlier run: insert is idempotent
		}
		indent := s.Indent()
		if at < len(s.Body) && s.Body[at].IsDirective() {
			indent = s.Body[at].Indent()
		}
		lines = append(lines, a.newLine(s, indent, text, v.Pos))
	}
	s.Insert(at, lines...)
}

func (a *applier) has(s *config.Section, words []string) bool {
	for _, l := range s.Body {
		if l.SameWords(words) {
			return true
		}
	}
	return false
}

func (a *applier) params(e *snippet.Edit, s *config.Section, op snippet.Params) {
	found := false
	firstServer := -1
	for i, l := range s.Body {
		if !l.IsDirective() {
			continue
		}
		kw := l.Keyword()
		if (kw == "server" || kw == "server-template") && firstServer < 0 {
			firstServer = i
		}
		if _, ok := config.ParamStart(kw); !ok || !op.On.Match(kw) {
			continue
		}
		found = true
		// The line's words and the merged ones go through scratch slices
		// of a: the new line keeps neither, and a params edit on `server`
		// merges into every server line of the file.
		a.words = l.AppendWords(a.words[:0])
		a.merged = mergeParams(a.merged[:0], a.words, op.Set, op.Delete)
		merged := a.merged
		if l.SameWords(merged) {
			continue
		}
		s.Body[i] = a.rewrite(s, l, merged, op.Pos)
		if a.rayLine(l) {
			// Still Ray's line, with parameters merged in: a later set
			// that replaces it drops Ray's parameters all the same.
			if a.fromRay == nil {
				a.fromRay = map[*config.Line]bool{}
			}
			a.fromRay[s.Body[i]] = true
		}
	}
	if found {
		return
	}
	if op.On.Literal() && op.On.Pattern() == "default-server" {
		// HAProxy applies default-server only to the servers after it.
		at := firstServer
		if at < 0 {
			at = lastDirective(s) + 1
		}
		words := mergeParams(nil, []string{"default-server"}, op.Set, nil)
		s.Insert(at, a.newLine(s, s.Indent(), joinWords(words), op.Pos))
		return
	}
	if !e.Optional {
		a.errs.Add(op.Pos, "params on %q: %s has no such line", op.On.Pattern(), s.Title())
	}
}

// rewrite renders a directive from words, keeping the line's indentation and
// its own comment, replacing any older provenance comment.
func (a *applier) rewrite(s *config.Section, l *config.Line, words []string, pos config.Position) *config.Line {
	text := joinWords(words)
	c := l.Comment()
	if strings.Contains(c, "serve-launch:") {
		c = provenanceRE().ReplaceAllString(c, "")
	}
	if strings.TrimSpace(c) != "" {
		return a.newLine(s, l.Indent(), text+" #"+c, pos)
	}
	// Quote makes words read back as themselves: the line's words are known.
	p := parsedText{words: slices.Clip(words), key: config.KeyIn(text, words), plain: true}
	return a.newLineOf(s, l.Indent(), text, p, pos)
}

// joinWords writes words as one line, quoting those that need it, in one
// allocation when none does (as for the server lines params edits rewrite).
func joinWords(words []string) string {
	n := len(words)
	for _, w := range words {
		n += len(w)
	}
	var b strings.Builder
	b.Grow(n)
	for i, w := range words {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(config.Quote(w))
	}
	return b.String()
}
