package patch

import (
	"fmt"
	"strings"

	"github.com/serve-launch/serve-launch/internal/patch/config"
	"github.com/serve-launch/serve-launch/internal/patch/snippet"
)

// addSection adds a [[section]] of sn to the file, unless an earlier run
// added it already.
func (a *applier) addSection(sn *snippet.Snippet, ns *snippet.Section) {
	a.file = nil
	// A header is a section keyword line, which render refuses for body
	// lines; it is checked here instead.
	header, ok := a.execute(ns.Header, nil)
	if !ok {
		return
	}
	tok, err := config.Tokenize(header)
	switch {
	case strings.ContainsAny(header, "\r\n"):
		err = fmt.Errorf("it holds a line break")
	case err == nil && (len(tok.Words) == 0 || tok.Words[0] != ns.Kind):
		err = fmt.Errorf("it does not start with %q", ns.Kind)
	case err == nil && len(tok.Words) < 2 && config.IsProxyKind(ns.Kind):
		// Without a name it could never be found again, so every run
		// would add another one.
		err = fmt.Errorf("a %s section needs a name", ns.Kind)
	}
	if err != nil {
		a.errs.Add(ns.Header.Pos, "[[section]] header %q gave %q: %v", ns.Header.Text, header, err)
		return
	}
	kind, name := ns.Kind, ns.Name
	if len(tok.Words) > 1 {
		name = tok.Words[1]
	}
	var lines []string
	for _, v := range ns.Lines {
		if text, ok := a.render(v, nil); ok {
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
		if s.Kind == kind || (config.IsProxyKind(kind) && config.IsProxyKind(s.Kind) && (kind == "listen" || s.Kind == "listen")) {
			a.errs.Add(ns.Pos, "[[section]] %q: the config already has %s (%s); HAProxy refuses duplicate names",
				header, s.Title(), s.Header.Pos)
			return
		}
	}
	if !ns.Force {
		// What the new section would hold, checked before it is added.
		view := newRayView(a.f)
		s := config.NewSection(config.NewLine(header, ns.Header.Pos))
		for i, text := range lines {
			s.Body = append(s.Body, config.NewLine(text, ns.Lines[i].Pos))
		}
		if added := newIntrusions(nil, view.intrusions([]*config.Section{s})); len(added) > 0 {
			a.errs.Add(ns.Pos, "[[section]] %q adds what takes over from Ray: %s; set force = true on the [[section]] if you mean it",
				header, strings.Join(added, "; "))
			return
		}
	}
	at := len(a.f.Sections)
	if ns.Before != nil {
		at = -1
		for i, s := range a.f.Sections {
			if ns.Before.Match(s) {
				at = i
				break
			}
		}
		if at < 0 {
			a.errs.Add(ns.Pos, "[[section]] %q: before = %q matches no section; the config has: %s", header, ns.Before.String(), a.titles())
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
		hraw += fmt.Sprintf(" # serve-launch: %s:%d", ns.Header.Pos.File, ns.Header.Pos.Line)
	}
	s := config.NewSection(config.NewLine(hraw+eol, ns.Header.Pos))
	for i, text := range lines {
		s.Body = append(s.Body, a.newLine(s, "    ", text, ns.Lines[i].Pos))
	}
	a.f.Sections = append(a.f.Sections[:at], append([]*config.Section{s}, a.f.Sections[at:]...)...)
}

// sameSection reports whether s is the section ns added on an earlier run.
// With provenance, its header says so: later edits may have added or
// changed its lines, so the body cannot tell. Without, its directives must
// be exactly ns's lines; a looser test would let a [[section]] that repeats
// a few lines of one of Ray's sections pass as already added.
func (a *applier) sameSection(s *config.Section, ns *snippet.Section, lines []string) bool {
	if f := strings.Fields(s.Header.Comment()); len(f) >= 2 && f[len(f)-2] == "serve-launch:" {
		return f[len(f)-1] == fmt.Sprintf("%s:%d", ns.Header.Pos.File, ns.Header.Pos.Line)
	}
	var have []*config.Line
	for _, l := range s.Body {
		if l.IsDirective() {
			have = append(have, l)
		}
	}
	if len(have) != len(lines) {
		return false
	}
	for i, text := range lines {
		tok, _ := config.Tokenize(text)
		if !have[i].SameWords(tok.Words) {
			return false
		}
	}
	return true
}

// terminateLast gives the file's last line a terminator, so that appended
// lines do not run into it.
func (a *applier) terminateLast(eol string) {
	if last := a.f.LastLine(); last != nil && last.EOL() == "" {
		last.Raw += eol
	}
}
