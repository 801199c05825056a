package patch

import (
	"errors"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/serve-launch/serve-launch/internal/patch/config"
	"github.com/serve-launch/serve-launch/internal/patch/snippet"
	"github.com/serve-launch/serve-launch/internal/patch/tmpl"
)

// ApplyOptions controls how overrides are applied.
type ApplyOptions struct {
	// NoProvenance leaves out the "# serve-launch: FILE:LINE" comment that
	// otherwise ends every line a snippet writes.
	NoProvenance bool
	// Getenv answers the env template function; nil means no variable is
	// set, so every env without a default is an error naming its
	// file:line. Each caller passes the environment its haproxy runs in:
	// the shim its own (Ray's), the launcher Ray's.
	Getenv func(string) (string, bool)
}

// Overrides is an ordered set of snippets, as loaded from an overrides.d
// directory (see package load).
type Overrides struct {
	Dir      string
	Snippets []*snippet.Snippet
}

// provenanceRE finds our own provenance comment at the end of a line's comment,
// so that re-applying overrides to a patched file replaces it instead of
// stacking another.
// Compiled on first use, since package init runs on every shim start.
var provenanceRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`\s*#?\s*serve-launch: \S+\s*$`) })

// Patch parses generated, applies the overrides and renders the result.
func (o *Overrides) Patch(name string, generated []byte, opt ApplyOptions) ([]byte, error) {
	f, err := config.Parse(name, generated)
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
func (o *Overrides) Apply(f *config.File, opt ApplyOptions) error {
	a := &applier{f: f, opt: opt}
	for _, sn := range o.Snippets {
		for _, e := range sn.Edits {
			for _, v := range e.Set {
				if a.setPos == nil {
					a.setPos = map[config.Position]bool{}
				}
				a.setPos[v.Pos] = true
			}
		}
	}
	for _, sn := range o.Snippets {
		for _, ns := range sn.Sections {
			a.addSection(sn, ns)
		}
		for _, e := range sn.Edits {
			a.edit(sn, e)
		}
	}
	a.errs.Sort()
	return a.errs.Err()
}

type applier struct {
	f    *config.File
	opt  ApplyOptions
	errs config.ErrorList
	// file caches the whole-file part of the template context for the
	// current edit or new section, so that templated lines do not recount
	// every server of the file each; nil means not computed yet.
	file *tmpl.Context
	// texts caches what a snippet line's text says (see parse): a set in
	// `backend *` runs once per backend, thousands of times in a large
	// config, with the same text.
	texts map[string]parsedText
	// slab holds Lines for newLineOf to hand out: an edit of `backend *`
	// writes a line or more into every backend, and one allocation per
	// line would be a large part of Apply's cost.
	slab []config.Line
	// setPos holds the positions of every set line of the snippets: the
	// lines a set writes carry them, which is how add knows a key that set
	// keeps to one line.
	setPos map[config.Position]bool
	// setKept holds the lines a set found already saying its text and so
	// left with the config's position, each with the set's position.
	setKept map[*config.Line]config.Position
	// fromRay holds the lines params rewrote from a line of Ray's (see
	// rayLine).
	fromRay map[*config.Line]bool
	// dropped holds the set lines already refused for dropping Ray's
	// parameters: a set in `backend *` would say so in every backend.
	dropped map[config.Position]bool
	// words and merged are params' scratch space (see params).
	words, merged []string
	// budget is what the templates of this patch may still spend.
	budget tmpl.Budget
	// written counts the bytes of the lines snippets wrote (see
	// maxPatchWritten).
	written int
}

// parsedText is a snippet line's text read as haproxy reads it.
type parsedText struct {
	words []string // clipped: lines built from it share it, read-only
	key   string
	// list is config.IsListKey(key): set refuses such a text and add places it
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
	tok, err := config.Tokenize(text)
	p := parsedText{words: slices.Clip(tok.Words), key: config.Key(tok.Words), plain: err == nil && !tok.HasComment}
	p.list = config.IsListKey(p.key)
	if a.texts == nil {
		a.texts = map[string]parsedText{}
	}
	a.texts[text] = p
	return p
}

func (a *applier) context(s *config.Section) tmpl.Context {
	if a.file == nil {
		c := tmpl.Context{Servers: config.ServerCount(a.f.Sections)}
		for _, x := range a.f.Sections {
			if x.Kind == "backend" && x.Name != "default_backend" {
				c.Backends++
			}
		}
		a.file = &c
	}
	ctx := *a.file
	if s != nil {
		ctx.Section = tmpl.SectionContext{Kind: s.Kind, Name: s.Name, Servers: config.ServerCount([]*config.Section{s})}
	}
	return ctx
}

// render runs a line's template and checks the result is one directive.
func (a *applier) render(v snippet.Value, s *config.Section) (string, bool) {
	text, ok := a.execute(v, s)
	if ok && v.Tmpl != nil {
		if err := snippet.CheckLine(text); err != nil {
			a.errs.Add(v.Pos, "template %q gave %v", shortText(v.Text), err)
			return "", false
		}
	}
	return text, ok
}

// execute runs a line's template, if it has one.
func (a *applier) execute(v snippet.Value, s *config.Section) (string, bool) {
	if v.Tmpl == nil {
		return v.Text, true
	}
	text, err := v.Tmpl.Execute(a.context(s), a.opt.Getenv, &a.budget)
	if errors.Is(err, tmpl.ErrBudgetSpent) {
		return "", false // reported where the budget ran out
	}
	if err != nil {
		// The same line can fail in one section and not another (.Section).
		where := ""
		if s != nil {
			where = " in " + s.Title()
		}
		msg := tmpl.CleanError(err)
		if errors.Is(err, tmpl.ErrLineTooLong) {
			// Said the same whether the output or a value built on the
			// way passed the limit.
			msg = tmpl.ErrLineTooLong.Error()
		}
		a.errs.Add(v.Pos, "template %q%s: %s", shortText(v.Text), where, msg)
		return "", false
	}
	return text, true
}

// newLine builds a line the engine writes into s, with s's indentation and line
// terminator and, unless turned off, a provenance comment.
func (a *applier) newLine(s *config.Section, indent, text string, pos config.Position) *config.Line {
	return a.newLineOf(s, indent, text, a.parse(text), pos)
}

// newLineOf is newLine for a text already parsed: a plain text's words and
// key are the line's, and its comment is the provenance, so the line is
// built without tokenizing it again. TestNewLineOfMatchesNewLine holds the
// two ways to the same line.
func (a *applier) newLineOf(s *config.Section, indent, text string, p parsedText, pos config.Position) *config.Line {
	// One allocation for the line; its comment is a part of it. (A set in
	// `backend *` writes a line into every backend of the file.)
	text = strings.TrimSpace(text)
	eol := s.EOL()
	raw, commentAt := "", -1
	if a.opt.NoProvenance {
		raw = indent + text + eol
	} else {
		raw = indent + text + " # serve-launch: " + pos.File + ":" + strconv.Itoa(pos.Line) + eol
		commentAt = len(indent) + len(text) + 2
	}
	a.written += len(raw)
	if !p.plain {
		return config.NewLine(raw, pos)
	}
	if len(a.slab) == 0 {
		a.slab = make([]config.Line, 64)
	}
	l := &a.slab[0]
	a.slab = a.slab[1:]
	l.SetParsed(raw, pos, p.words, commentAt)
	return l
}

// maxPatchWritten bounds the bytes the lines snippets write into one config
// add up to: a snippet within its 1 MiB, edited into every backend of a
// large config, would otherwise multiply into gigabytes. It is the limit of
// a generated config, far more than any real patch writes.
const maxPatchWritten = 64 << 20

// maxQuoted is how much of a template an error message quotes.
const maxQuoted = 120

// shortText is a template's text for a message: one longer than maxQuoted
// bytes is cut, so that an error does not repeat a line of 16 KiB.
func shortText(s string) string {
	if len(s) <= maxQuoted {
		return s
	}
	cut := maxQuoted
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}
