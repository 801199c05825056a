package patch

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"text/template"
)

// ApplyOptions controls how overrides are applied.
type ApplyOptions struct {
	// NoProvenance leaves out the "# serve-launch: FILE:LINE" comment that
	// otherwise ends every line a snippet writes.
	NoProvenance bool
	// Getenv looks up variables for the env template function; nil means the
	// process environment.
	Getenv func(string) (string, bool)
}

// provenanceRE finds our own provenance comment at the end of a line's comment,
// so that re-applying overrides to a patched file replaces it instead of
// stacking another.
// Compiled on first use, since package init runs on every shim start.
var provenanceRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`\s*#?\s*serve-launch: \S+\s*$`) })

// Patch parses generated, applies the overrides and renders the result.
func (o *Overrides) Patch(name string, generated []byte, opt ApplyOptions) ([]byte, error) {
	f, err := Parse(name, generated)
	if err != nil {
		return nil, err
	}
	if err := o.Apply(f, opt); err != nil {
		return nil, err
	}
	return f.Render(), nil
}

// Apply edits f in place: every snippet in order, and in each snippet its new
// sections first, then its edits in order. All errors are returned together;
// f is only meaningful when the error is nil.
func (o *Overrides) Apply(f *File, opt ApplyOptions) error {
	if opt.Getenv == nil {
		opt.Getenv = os.LookupEnv
	}
	a := &applier{f: f, opt: opt}
	for _, sn := range o.Snippets {
		for _, e := range sn.edits {
			for _, tl := range e.set {
				if a.setPos == nil {
					a.setPos = map[Position]bool{}
				}
				a.setPos[tl.pos] = true
			}
		}
	}
	for _, sn := range o.Snippets {
		for _, ns := range sn.sections {
			a.addSection(sn, ns)
		}
		for _, e := range sn.edits {
			a.edit(sn, e)
		}
	}
	a.errs.Sort()
	return a.errs.Err()
}

type applier struct {
	f    *File
	opt  ApplyOptions
	errs ErrorList
	// file caches the whole-file part of the template context for the
	// current edit or new section, so that templated lines do not recount
	// every server of the file each; nil means not computed yet.
	file *TemplateContext
	// texts caches what a snippet line's text says (see parse): a set in
	// `backend *` runs once per backend, thousands of times in a large
	// config, with the same text.
	texts map[string]parsedText
	// slab holds Lines for newLineOf to hand out: an edit of `backend *`
	// writes a line or more into every backend, and one allocation per
	// line was a large part of Apply's cost.
	slab []Line
	// setPos holds the positions of every set line of the snippets: the
	// lines a set writes carry them, which is how add knows a key that set
	// keeps to one line.
	setPos map[Position]bool
	// setKept holds the lines a set found already saying its text and so
	// left with the config's position, each with the set's position.
	setKept map[*Line]Position
	// budget is what the templates of this patch may still spend.
	budget patchBudget
}

// parsedText is a snippet line's text read as haproxy reads it.
type parsedText struct {
	words []string // clipped: lines built from it share it, read-only
	key   string
	// list is IsListKey(key): set refuses such a text and add places it
	// after its own rules, in every section it edits.
	list bool
	// plain is true when the text tokenized without error and has no
	// comment, so a line of it is built without tokenizing again.
	plain bool
}

// parse reads a snippet line's text, once per text per Apply.
func (a *applier) parse(text string) parsedText {
	if p, ok := a.texts[text]; ok {
		return p
	}
	tok, err := Tokenize(text)
	p := parsedText{words: slices.Clip(tok.Words), key: Key(tok.Words), plain: err == nil && !tok.HasComment}
	p.list = IsListKey(p.key)
	if a.texts == nil {
		a.texts = map[string]parsedText{}
	}
	a.texts[text] = p
	return p
}

func (a *applier) context(s *Section) TemplateContext {
	if a.file == nil {
		c := TemplateContext{Servers: serverCount(a.f.Sections)}
		for _, x := range a.f.Sections {
			if x.Kind == "backend" && x.Name != "default_backend" {
				c.Backends++
			}
		}
		a.file = &c
	}
	ctx := *a.file
	if s != nil {
		ctx.Section = SectionContext{Kind: s.Kind, Name: s.Name, Servers: serverCount([]*Section{s})}
	}
	return ctx
}

// render runs a line's template and checks the result is one directive.
func (a *applier) render(tl tmplLine, s *Section) (string, bool) {
	text, ok := a.execute(tl, s)
	if ok && tl.tmpl != nil {
		if err := checkBodyLine(text); err != nil {
			a.errs.Add(tl.pos, "template %q gave %v", shortText(tl.text), err)
			return "", false
		}
	}
	return text, ok
}

// execute runs a line's template, if it has one.
func (a *applier) execute(tl tmplLine, s *Section) (string, bool) {
	if tl.tmpl == nil {
		return tl.text, true
	}
	var b limitedBuffer
	err := a.budget.start(tl.nodes)
	var t *template.Template
	if err == nil {
		t, err = tl.tmpl.Clone()
	}
	if err == nil {
		t = t.Funcs(templateFuncs(a.opt.Getenv, &evalBudget{patch: &a.budget}))
		err = t.Execute(&b, a.context(s))
	}
	if err == nil {
		err = a.budget.spend(b.Len())
	}
	if errors.Is(err, errPatchBudgetSpent) {
		return "", false // reported where the budget ran out
	}
	if err != nil {
		// The same line can fail in one section and not another (.Section).
		where := ""
		if s != nil {
			where = " in " + s.Title()
		}
		msg := cleanTemplateErr(err)
		if errors.Is(err, errLineTooLong) {
			// Said the same whether the output or a value built on the
			// way passed the limit.
			msg = errLineTooLong.Error()
		}
		a.errs.Add(tl.pos, "template %q%s: %s", shortText(tl.text), where, msg)
		return "", false
	}
	return b.String(), true
}

// newLine builds a line the engine writes into s, with s's indentation and line
// terminator and, unless turned off, a provenance comment.
func (a *applier) newLine(s *Section, indent, text string, pos Position) *Line {
	return a.newLineOf(s, indent, text, a.parse(text), pos)
}

// newLineOf is newLine for a text already parsed: a plain text's words and
// key are the line's, and its comment is the provenance, so the line is
// built without tokenizing it again. TestNewLineOfMatchesNewLine holds the
// two ways to the same line.
func (a *applier) newLineOf(s *Section, indent, text string, p parsedText, pos Position) *Line {
	// One allocation for the line; its comment is a part of it. (A set in
	// `backend *` writes a line into every backend of the file.)
	text = strings.TrimSpace(text)
	eol := s.EOL()
	var raw, comment string
	if a.opt.NoProvenance {
		raw = indent + text + eol
	} else {
		raw = indent + text + " # serve-launch: " + pos.File + ":" + strconv.Itoa(pos.Line) + eol
		comment = raw[len(indent)+len(text)+2 : len(raw)-len(eol)]
	}
	a.budget.written += len(raw)
	if !p.plain {
		return NewLine(raw, pos)
	}
	if len(a.slab) == 0 {
		a.slab = make([]Line, 64)
	}
	l := &a.slab[0]
	a.slab = a.slab[1:]
	*l = Line{Raw: raw, Pos: pos, Words: p.words, Comment: comment, key: p.key}
	return l
}

// sameWords reports whether two lines say the same thing to haproxy. It
// compares from the last word: lines of one section that differ mostly
// share their first words (a keyword, an action), so a difference is found
// at once, and add and insert compare their line with every line of the
// section.
func sameWords(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := len(a) - 1; i >= 0; i-- {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func (a *applier) edit(sn *Snippet, e *edit) {
	a.file = nil // counted as the file stands when the edit starts
	var matched []*Section
	for _, s := range a.f.Sections {
		if e.sel.match(s) && !excluded(e.exclude, s.Name) {
			matched = append(matched, s)
		}
	}
	if len(matched) == 0 {
		switch {
		case e.optional:
		case e.sel.kind == "backend" && a.firstStart():
			// Ray starts haproxy before its first routes arrive, on a
			// config whose only backend is default_backend; the apps come
			// with the next reload, which this edit then finds. Failing
			// here would fail every first start Ray makes. (The preflight
			// checks the snippets on a config with an app, where a
			// selector that matches nothing is still an error.)
		case len(a.f.Sections) == 0:
			// Ray's configs always have sections: the mistake is the file
			// given, not the snippet, so optional is no advice here.
			a.errs.Add(e.pos, "section %q matches no section; the config has no sections at all (is it a haproxy config?)", e.sel.String())
		default:
			a.errs.Add(e.pos, "section %q matches no section; the config has: %s (set optional = true if that is fine)",
				e.sel.String(), a.titles())
		}
		return
	}
	guard := !e.force && mayTripGuard(e)
	var before map[string]string
	if guard {
		before = guardFacts(matched)
	}
	intrude := !e.force && mayIntrude(e)
	var view *rayView
	var intrusions map[string]string
	if intrude {
		view = newRayView(a.f)
		intrusions = view.intrusions(matched)
	}
	n := len(a.errs)
	for _, s := range matched {
		if a.budget.written > maxPatchWritten {
			return // said where it was passed
		}
		a.editSection(e, s)
		if a.budget.written > maxPatchWritten {
			a.errs.Add(e.pos, "edit of %q makes the lines snippets write add up to more than %d bytes (its lines times the sections it matches)", e.sel.String(), maxPatchWritten)
			return
		}
	}
	if len(a.errs) > n {
		return
	}
	if guard {
		if lost := lostFacts(before, guardFacts(matched)); len(lost) > 0 {
			a.errs.Add(e.pos, "edit of %q removes or changes what Ray depends on: %s; set force = true on the edit if you mean it",
				e.sel.String(), strings.Join(lost, "; "))
		}
	}
	if intrude {
		if added := newIntrusions(intrusions, view.intrusions(matched)); len(added) > 0 {
			a.errs.Add(e.pos, "edit of %q adds what takes over from Ray: %s; set force = true on the edit if you mean it",
				e.sel.String(), strings.Join(added, "; "))
		}
	}
}

func excluded(globs []*glob, name string) bool {
	for _, g := range globs {
		if g.match(name) {
			return true
		}
	}
	return false
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

func (a *applier) editSection(e *edit, s *Section) {
	for _, d := range e.delete {
		a.delete(s, d)
	}
	for _, tl := range e.set {
		if text, ok := a.render(tl, s); ok {
			a.set(s, text, tl.pos)
		}
	}
	for _, tl := range e.add {
		if text, ok := a.render(tl, s); ok {
			a.add(s, text, tl.pos)
		}
	}
	for _, op := range e.insert {
		a.insert(e, s, op)
	}
	for _, op := range e.params {
		a.params(e, s, op)
	}
}

// lastDirective is the index after which set and add append: after the last
// line with words, so trailing blank lines and comments stay at the end.
func lastDirective(s *Section) int {
	for i := len(s.Body) - 1; i >= 0; i-- {
		if s.Body[i].IsDirective() {
			return i
		}
	}
	return -1
}

func (s *Section) insertAt(i int, lines ...*Line) {
	if len(lines) == 0 {
		return
	}
	// The line before the insertion may be a file's last line without a
	// terminator; give it one so the new lines do not run into it.
	prev := s.Header
	if i > 0 {
		prev = s.Body[i-1]
	}
	if prev.EOL() == "" {
		prev.Raw += s.EOL()
	}
	// In place, growing the slice as append does: a copy of the tail per
	// insert made thousands of adds to one section quadratic in memory.
	s.Body = slices.Insert(s.Body, i, lines...)
}

func (a *applier) set(s *Section, text string, pos Position) {
	tok := a.parse(text)
	if tok.list {
		a.errs.Add(pos, "%s", setProblem(tok.words))
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
		s.insertAt(lastDirective(s)+1, a.newLineOf(s, s.Indent(), text, tok, pos))
		return
	}
	if l := s.Body[first]; !sameWords(l.Words, tok.words) {
		s.Body[first] = a.newLineOf(s, l.Indent(), text, tok, pos)
	} else {
		if a.setKept == nil {
			a.setKept = map[*Line]Position{}
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

func (a *applier) add(s *Section, text string, pos Position) {
	tok := a.parse(text)
	if p := addProblem(s.Kind, tok.words); p != "" {
		a.errs.Add(pos, "%s", p)
		return
	}
	at := lastDirective(s) + 1
	var keyed *Line // the first line with the same key
	for i, l := range s.Body {
		if sameWords(l.Words, tok.words) {
			return // already there: add is idempotent
		}
		// A rule joins the end of its own list, so that it keeps rule order
		// (an http-request after a use_backend draws a warning from haproxy).
		if tok.list && l.IsDirective() && l.Words[0] == tok.words[0] {
			at = i + 1
		}
		if keyed == nil && !tok.list && l.key == tok.key && tok.key != "" {
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
	s.insertAt(at, a.newLineOf(s, s.Indent(), text, tok, pos))
}

func (a *applier) delete(s *Section, g *glob) {
	kept := s.Body[:0:0]
	for _, l := range s.Body {
		if l.IsDirective() && (g.match(l.Key()) || (s.IsList(l) && g.match(strings.Join(l.Words, " ")))) {
			continue
		}
		kept = append(kept, l)
	}
	s.Body = kept
}

func (a *applier) insert(e *edit, s *Section, op insertOp) {
	at := -1
	for i, l := range s.Body {
		if l.IsDirective() && op.anchor.match(strings.Join(l.Words, " ")) {
			if op.before {
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
		if !e.optional && !a.firstStart() {
			where := "after"
			if op.before {
				where = "before"
			}
			a.errs.Add(op.pos, "insert %s %q: no line of %s matches", where, op.anchor.pattern, s.Title())
		}
		return
	}
	var lines []*Line
	for _, tl := range op.lines {
		text, ok := a.render(tl, s)
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
		lines = append(lines, a.newLine(s, indent, text, tl.pos))
	}
	s.insertAt(at, lines...)
}

func (a *applier) has(s *Section, words []string) bool {
	for _, l := range s.Body {
		if sameWords(l.Words, words) {
			return true
		}
	}
	return false
}

func (a *applier) params(e *edit, s *Section, op paramsOp) {
	found := false
	firstServer := -1
	for i, l := range s.Body {
		if !l.IsDirective() {
			continue
		}
		kw := l.Words[0]
		if (kw == "server" || kw == "server-template") && firstServer < 0 {
			firstServer = i
		}
		if _, ok := paramStart(kw); !ok || !op.on.match(kw) {
			continue
		}
		found = true
		merged := mergeParams(l.Words, op.set, op.delete)
		if sameWords(merged, l.Words) {
			continue
		}
		s.Body[i] = a.rewrite(s, l, merged, op.pos)
	}
	if found {
		return
	}
	if op.on.literal() && op.on.pattern == "default-server" {
		// HAProxy applies default-server only to the servers after it.
		at := firstServer
		if at < 0 {
			at = lastDirective(s) + 1
		}
		words := mergeParams([]string{"default-server"}, op.set, nil)
		s.insertAt(at, a.newLine(s, s.Indent(), joinWords(words), op.pos))
		return
	}
	if !e.optional {
		a.errs.Add(op.pos, "params on %q: %s has no such line", op.on.pattern, s.Title())
	}
}

// rewrite renders a directive from words, keeping the line's indentation and
// its own comment, replacing any older provenance comment.
func (a *applier) rewrite(s *Section, l *Line, words []string, pos Position) *Line {
	text := joinWords(words)
	c := l.Comment
	if strings.Contains(c, "serve-launch:") {
		c = provenanceRE().ReplaceAllString(c, "")
	}
	if strings.TrimSpace(c) != "" {
		return a.newLine(s, l.Indent(), text+" #"+c, pos)
	}
	// Quote makes words read back as themselves: the line's words are known.
	p := parsedText{words: slices.Clip(words), key: keyIn(text, words), plain: true}
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
		b.WriteString(Quote(w))
	}
	return b.String()
}

func (a *applier) addSection(sn *Snippet, ns *addSection) {
	a.file = nil
	// A header is a section keyword line, which render refuses for body
	// lines; it is checked here instead.
	header, ok := a.execute(ns.header, nil)
	if !ok {
		return
	}
	tok, err := Tokenize(header)
	switch {
	case strings.ContainsAny(header, "\r\n"):
		err = fmt.Errorf("it holds a line break")
	case err == nil && (len(tok.Words) == 0 || tok.Words[0] != ns.kind):
		err = fmt.Errorf("it does not start with %q", ns.kind)
	case err == nil && len(tok.Words) < 2 && proxyKinds[ns.kind]:
		// Without a name it could never be found again, so every run
		// would add another one.
		err = fmt.Errorf("a %s section needs a name", ns.kind)
	}
	if err != nil {
		a.errs.Add(ns.header.pos, "[[section]] header %q gave %q: %v", ns.header.text, header, err)
		return
	}
	kind, name := ns.kind, ns.name
	if len(tok.Words) > 1 {
		name = tok.Words[1]
	}
	var lines []string
	for _, tl := range ns.lines {
		if text, ok := a.render(tl, nil); ok {
			lines = append(lines, text)
		}
	}
	for _, s := range a.f.Sections {
		if s.Name != name {
			continue
		}
		if s.Kind == kind && a.sameSection(s, ns, lines) {
			return // added by an earlier run: nothing to do
		}
		if name == "" {
			continue // unnamed sections (global, defaults) may repeat
		}
		if s.Kind == kind || (proxyKinds[kind] && proxyKinds[s.Kind] && (kind == "listen" || s.Kind == "listen")) {
			a.errs.Add(ns.pos, "[[section]] %q: the config already has %s (%s); HAProxy refuses duplicate names",
				header, s.Title(), s.Header.Pos)
			return
		}
	}
	if !ns.force {
		// What the new section would hold, checked before it is added.
		view := newRayView(a.f)
		s := newSection(NewLine(header, ns.header.pos))
		for i, text := range lines {
			s.Body = append(s.Body, NewLine(text, ns.lines[i].pos))
		}
		if added := newIntrusions(nil, view.intrusions([]*Section{s})); len(added) > 0 {
			a.errs.Add(ns.pos, "[[section]] %q adds what takes over from Ray: %s; set force = true on the [[section]] if you mean it",
				header, strings.Join(added, "; "))
			return
		}
	}
	at := len(a.f.Sections)
	if ns.before != nil {
		at = -1
		for i, s := range a.f.Sections {
			if ns.before.match(s) {
				at = i
				break
			}
		}
		if at < 0 {
			a.errs.Add(ns.pos, "[[section]] %q: before = %q matches no section; the config has: %s", header, ns.before.String(), a.titles())
			return
		}
	}
	eol := "\n"
	if len(a.f.Sections) > 0 {
		eol = a.f.Sections[0].EOL()
	}
	// A file without a final newline must get one before the new section.
	if at == len(a.f.Sections) {
		a.terminateLast(eol)
	}
	hraw := header
	if !a.opt.NoProvenance {
		hraw += fmt.Sprintf(" # serve-launch: %s:%d", ns.header.pos.File, ns.header.pos.Line)
	}
	s := newSection(NewLine(hraw+eol, ns.header.pos))
	for i, text := range lines {
		s.Body = append(s.Body, a.newLine(s, "    ", text, ns.lines[i].pos))
	}
	a.f.Sections = append(a.f.Sections[:at], append([]*Section{s}, a.f.Sections[at:]...)...)
}

// sameSection reports whether s is the section ns added on an earlier run.
// With provenance, its header says so: later edits may have added or
// changed its lines, so the body cannot tell. Without, its directives must
// be exactly ns's lines; a looser test would let a [[section]] that repeats
// a few lines of one of Ray's sections pass as already added.
func (a *applier) sameSection(s *Section, ns *addSection, lines []string) bool {
	if f := strings.Fields(s.Header.Comment); len(f) >= 2 && f[len(f)-2] == "serve-launch:" {
		return f[len(f)-1] == fmt.Sprintf("%s:%d", ns.header.pos.File, ns.header.pos.Line)
	}
	var have [][]string
	for _, l := range s.Body {
		if l.IsDirective() {
			have = append(have, l.Words)
		}
	}
	if len(have) != len(lines) {
		return false
	}
	for i, text := range lines {
		tok, _ := Tokenize(text)
		if !sameWords(have[i], tok.Words) {
			return false
		}
	}
	return true
}

// terminateLast gives the file's last line a terminator, so that appended
// lines do not run into it.
func (a *applier) terminateLast(eol string) {
	var last *Line
	a.f.eachLine(func(l *Line) { last = l })
	if last != nil && last.EOL() == "" {
		last.Raw += eol
	}
}
