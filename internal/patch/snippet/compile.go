package snippet

import (
	"fmt"
	"strings"

	"github.com/serve-launch/serve-launch/internal/patch/config"
	"github.com/serve-launch/serve-launch/internal/patch/tmpl"
)

// Snippet is one loaded and validated overrides.d file, compiled into the
// edits the patch engine runs.
type Snippet struct {
	// Name is the file name, as used in messages and provenance comments.
	Name string
	// Path is the file's path.
	Path string
	// SHA256 is the hex digest of the file's bytes, for status and logs.
	SHA256 string
	// Sections are the file's [[section]]s and Edits its [[edit]]s, in
	// file order. The engine adds the sections first, then runs the edits.
	Sections []*Section
	Edits    []*Edit
	// nodes counts the parse nodes of the snippet's templates so far.
	nodes int
}

// Value is one line a snippet gives (in set, add, insert, lines or a
// header): its text, the template it holds, and where it is.
type Value struct {
	Pos  config.Position
	Text string
	// Tmpl is the text's template, nil when the text has no {{ }} action.
	Tmpl *tmpl.Template
	// unparsed marks a template left unparsed once the snippet's templates
	// passed maxSnippetNodes.
	unparsed bool
}

// Selector picks sections: every section of a kind, or those whose name
// matches a glob.
type Selector struct {
	Kind string
	// Name is nil for every section of the kind.
	Name *Glob
}

// Edit is one [[edit]].
type Edit struct {
	Pos      config.Position
	Sel      Selector
	Exclude  []*Glob
	Optional bool
	Force    bool
	Set      []Value
	Add      []Value
	// Delete holds key globs; for rule lists they match the whole line.
	Delete []*Glob
	Insert []Insert
	Params []Params
}

// Insert is one insert entry of an [[edit]]: lines before the first, or
// after the last, line whose words match Anchor.
type Insert struct {
	Pos    config.Position
	Before bool
	Anchor *Glob
	Lines  []Value
}

// Params is one params entry of an [[edit]]: parameters to set and delete
// on the lines whose keyword matches On.
type Params struct {
	Pos    config.Position
	On     *Glob
	Set    []config.Param
	Delete []string
}

// Section is one [[section]]: a section to add.
type Section struct {
	Pos    config.Position
	Header Value
	// Kind and Name are the header's first two words, as far as the header
	// says them before its template runs.
	Kind  string
	Name  string
	Lines []Value
	// Before selects the section to put it before; nil: the end of the file.
	Before *Selector
	Force  bool
}

func (s *Snippet) loadSection(pos positions, i int, sd sectionDoc, errs *config.ErrorList) *Section {
	path := fmt.Sprintf("section.%d", i)
	ns := &Section{Pos: pos.at(s.Name, path), Force: sd.Force}
	hpos := pos.at(s.Name, path+".header")
	if strings.TrimSpace(sd.Header) == "" {
		errs.Add(ns.Pos, "[[section]] needs a header, such as header = \"frontend metrics_local\"")
		return nil
	}
	ns.Header = s.loadLine(hpos, sd.Header, errs)
	if tok, err := config.Tokenize(sd.Header); err == nil && len(tok.Words) > 0 {
		if !config.IsSectionKeyword(tok.Words[0]) {
			errs.Add(hpos, "section header %q does not start with a section keyword (global, defaults, frontend, backend, listen, ...)", sd.Header)
			return nil
		}
		ns.Kind = tok.Words[0]
		if len(tok.Words) > 1 {
			ns.Name = tok.Words[1]
		}
		if ns.Name == "" && config.IsProxyKind(ns.Kind) {
			errs.Add(hpos, "a %s section needs a name", ns.Kind)
		}
	}
	for j, l := range sd.Lines {
		lp := pos.at(s.Name, fmt.Sprintf("%s.lines.%d", path, j))
		ns.Lines = append(ns.Lines, s.loadBodyLine(lp, l, errs))
	}
	if sd.Before != "" {
		sel, err := parseSelector(sd.Before)
		if err != nil {
			errs.Add(pos.at(s.Name, path+".before"), "%v", err)
		} else {
			ns.Before = &sel
		}
	}
	return ns
}

func (s *Snippet) loadEdit(pos positions, i int, ed editDoc, errs *config.ErrorList) *Edit {
	path := fmt.Sprintf("edit.%d", i)
	nerrs := len(*errs)
	e := &Edit{Pos: pos.at(s.Name, path), Optional: ed.Optional, Force: ed.Force}
	if ed.Section == "" {
		errs.Add(e.Pos, "[[edit]] needs section = \"KIND [NAME-GLOB]\", such as section = \"backend *\"")
		return nil
	}
	sel, err := parseSelector(ed.Section)
	if err != nil {
		errs.Add(pos.at(s.Name, path+".section"), "%v", err)
		return nil
	}
	e.Sel = sel
	for j, x := range ed.Exclude {
		g, err := compileGlob(x)
		if err != nil {
			errs.Add(pos.at(s.Name, fmt.Sprintf("%s.exclude.%d", path, j)), "exclude: %v", err)
			continue
		}
		e.Exclude = append(e.Exclude, g)
	}
	for j, l := range ed.Set {
		lp := pos.at(s.Name, fmt.Sprintf("%s.set.%d", path, j))
		v := s.loadBodyLine(lp, l, errs)
		if v.Tmpl == nil {
			checkSetLine(lp, l, errs)
		}
		e.Set = append(e.Set, v)
	}
	for j, l := range ed.Add {
		lp := pos.at(s.Name, fmt.Sprintf("%s.add.%d", path, j))
		v := s.loadBodyLine(lp, l, errs)
		if v.Tmpl == nil {
			checkAddLine(lp, sel.Kind, l, errs)
		}
		e.Add = append(e.Add, v)
	}
	for j, d := range ed.Delete {
		lp := pos.at(s.Name, fmt.Sprintf("%s.delete.%d", path, j))
		g, err := compileGlob(strings.Join(strings.Fields(d), " "))
		if err != nil || strings.TrimSpace(d) == "" {
			errs.Add(lp, "delete: bad key glob %q", d)
			continue
		}
		e.Delete = append(e.Delete, g)
	}
	for j, in := range ed.Insert {
		ip := fmt.Sprintf("%s.insert.%d", path, j)
		op := Insert{Pos: pos.at(s.Name, ip)}
		anchor := in.After
		switch {
		case in.Before != "" && in.After != "":
			errs.Add(op.Pos, "insert: give before or after, not both")
			continue
		case in.Before != "":
			op.Before, anchor = true, in.Before
		case in.After == "":
			errs.Add(op.Pos, "insert: needs before = GLOB or after = GLOB")
			continue
		}
		g, err := compileGlob(strings.Join(strings.Fields(anchor), " "))
		if err != nil {
			errs.Add(op.Pos, "insert: %v", err)
			continue
		}
		op.Anchor = g
		if len(in.Lines) == 0 {
			errs.Add(op.Pos, "insert: lines is empty")
		}
		for k, l := range in.Lines {
			op.Lines = append(op.Lines, s.loadBodyLine(pos.at(s.Name, fmt.Sprintf("%s.lines.%d", ip, k)), l, errs))
		}
		e.Insert = append(e.Insert, op)
	}
	for j, pd := range ed.Params {
		pp := pos.at(s.Name, fmt.Sprintf("%s.params.%d", path, j))
		op := Params{Pos: pp, Delete: pd.Delete}
		if pd.On == "" {
			errs.Add(pp, "params: needs on = KEYWORD, such as on = \"default-server\"")
			continue
		}
		g, err := compileGlob(pd.On)
		if err != nil {
			errs.Add(pp, "params: %v", err)
			continue
		}
		if !paramKeywordsMatch(g) {
			errs.Add(pp, "params: on = %q matches none of server, default-server, server-template, bind", pd.On)
			continue
		}
		op.On = g
		if pd.Set == "" && len(pd.Delete) == 0 {
			errs.Add(pp, "params: needs set = \"name value ...\" or delete = [\"name\", ...]")
			continue
		}
		tok, err := config.Tokenize(pd.Set)
		if err != nil {
			errs.Add(pp, "params: set: %v", err)
			continue
		}
		op.Set = config.ParseParams(tok.Words)
		if err := checkParams(op.Set); err != nil {
			errs.Add(pp, "params: set = %q: %v", pd.Set, err)
			continue
		}
		// Deleting what the same entry sets moves the parameter to the end
		// on every run after the first (found by FuzzLoadSnippet).
		if name := setAndDeleted(op.Set, pd.Delete); name != "" {
			errs.Add(pp, "params: %q is both set and deleted; give it in one of them", name)
			continue
		}
		e.Params = append(e.Params, op)
	}
	// An edit whose only entries were refused above already has its message.
	if len(e.Set)+len(e.Add)+len(e.Delete)+len(e.Insert)+len(e.Params) == 0 && len(*errs) == nerrs {
		errs.Add(e.Pos, "[[edit]] of %q has nothing to do: give set, add, delete, insert or params", ed.Section)
	}
	return e
}

// parseSelector reads "KIND" or "KIND NAME-GLOB".
func parseSelector(s string) (Selector, error) {
	f := strings.Fields(s)
	if len(f) == 0 || len(f) > 2 {
		return Selector{}, fmt.Errorf("bad section selector %q: want KIND or KIND NAME-GLOB, such as \"backend *\"", s)
	}
	if !config.IsSectionKeyword(f[0]) {
		return Selector{}, fmt.Errorf("bad section selector %q: %q is not a section keyword (global, defaults, frontend, backend, listen, ...)", s, f[0])
	}
	sel := Selector{Kind: f[0]}
	if len(f) == 2 {
		g, err := compileGlob(f[1])
		if err != nil {
			return Selector{}, fmt.Errorf("bad section selector %q: %v", s, err)
		}
		sel.Name = g
	}
	return sel, nil
}

func (sel Selector) String() string {
	if sel.Name == nil {
		return sel.Kind
	}
	return sel.Kind + " " + sel.Name.Pattern()
}

// Match reports whether sel picks s.
func (sel Selector) Match(s *config.Section) bool {
	if s.Kind != sel.Kind {
		return false
	}
	return sel.Name == nil || sel.Name.Match(s.Name)
}

// loadLine parses a snippet value as a template when it has actions.
func (s *Snippet) loadLine(pos config.Position, text string, errs *config.ErrorList) Value {
	v := Value{Pos: pos, Text: text}
	if strings.Contains(text, "{{") {
		// Parsing is linear, but what it builds is what every evaluation
		// walks: a template is held to the length of the line it writes.
		if len(text) > tmpl.MaxLineSize {
			errs.Add(pos, "template of %d bytes is longer than the limit of %d", len(text), tmpl.MaxLineSize)
			return v
		}
		if s.nodes > maxSnippetNodes {
			v.unparsed = true // said once, at the template that passed the limit
			return v
		}
		t, err := tmpl.Parse(pos.String(), text)
		if err != nil {
			errs.Add(pos, "template: %v", err)
			return v
		}
		if s.nodes += t.Nodes(); s.nodes > maxSnippetNodes {
			errs.Add(pos, "template: the snippet's templates have more than %d parts in all; split it, or write fewer templated lines", maxSnippetNodes)
			return v
		}
		v.Tmpl = t
	}
	return v
}

// maxSnippetNodes bounds the parts of all the templates of one snippet:
// parsing is linear, but every haproxy start parses every snippet again.
const maxSnippetNodes = 1 << 16

// loadBodyLine loads a line meant for a section body and checks what can be
// checked before templates run.
func (s *Snippet) loadBodyLine(pos config.Position, text string, errs *config.ErrorList) Value {
	n := len(*errs)
	v := s.loadLine(pos, text, errs)
	// A template that did not load has its message; its text is no line.
	if v.Tmpl == nil && len(*errs) == n && !v.unparsed {
		if err := CheckLine(text); err != nil {
			errs.Add(pos, "%v", err)
		}
	}
	return v
}
