package config

import (
	"io"
	"iter"
	"slices"
	"strings"
	"unsafe"

	"github.com/serve-launch/serve-launch/internal/hugepage"
)

// IsSectionKeyword reports whether word opens a section: the section
// keywords of HAProxy 2.6 to 3.x, which HAProxy recognises by the first word
// of a line, whatever its indentation. A switch, not a map: Parse asks it
// of every line.
func IsSectionKeyword(word string) bool {
	switch word {
	case "global", "defaults", "frontend", "backend", "listen",
		"peers", "resolvers", "userlist", "program", "mailers",
		"http-errors", "ring", "cache", "fcgi-app", "log-forward",
		"dynamic-update", "namespace_list", "crt-store", "traces",
		"acme", "http-client":
		return true
	}
	return false
}

// IsProxyKind reports whether sections of kind are proxies, which share
// one name space in HAProxy: frontend, backend and listen.
func IsProxyKind(kind string) bool {
	return kind == "frontend" || kind == "backend" || kind == "listen"
}

// Line is one line of a configuration file.
//
// A config has two lines per server or so, and the shim holds every line
// of it in memory at once, so a Line keeps what can be read from Raw as
// offsets into Raw instead of strings of its own: its words, its comment,
// its key, its tokenizer error (80 bytes a line and 4 a word, instead of
// 120 and 16).
type Line struct {
	// Raw is the line's exact bytes, including its terminator ("\n", "\r\n" or
	// none on a last line without one).
	Raw string
	// Pos is where the line came from. Lines written by the engine carry the
	// position of the snippet that wrote them.
	Pos Position
	// words are the line's words as HAProxy reads them, encoded (see
	// words.go); read by Word and NumWords. Empty for blank and
	// comment-only lines, and for a line whose quotes do not close.
	words string
	// keyLo and keyHi place the line's key, Key(Words), in Raw: edits look
	// keys up once per line per set line. keyLo == keyOutside says the
	// key's words do not stand in Raw one space apart (quoted, or apart by
	// tabs), and Key joins them anew.
	keyLo, keyHi uint32
	// comment is where the comment starts in Raw, after its '#';
	// noComment when there is none, and tokenizer errors below it.
	comment int32
	// wideWords says words has the wide form.
	wideWords bool
}

// Values of Line.comment that are not offsets.
const (
	noComment      = -1
	errSingleQuote = -2
	errDoubleQuote = -3
)

// keyOutside is Line.keyLo for a key that is not a part of Raw.
const keyOutside = ^uint32(0)

// Comment is the line's unquoted comment, without the '#'; "" when it has
// none.
func (l *Line) Comment() string {
	if l.comment < 0 {
		return ""
	}
	return l.Text()[l.comment:]
}

// Err is the tokenizer's error, if any: a quote that does not close, at
// the column of Pos.
func (l *Line) Err() error {
	switch l.comment {
	case errSingleQuote:
		return &tokenError{col: l.Pos.Col, msg: msgSingleQuote}
	case errDoubleQuote:
		return &tokenError{col: l.Pos.Col, msg: msgDoubleQuote}
	}
	return nil
}

// NewLine builds a line from its raw bytes and position.
func NewLine(raw string, pos Position) *Line {
	l := &Line{}
	l.init(raw, pos, &lineReader{})
	return l
}

// lineReader is what tokenizing lines reuses from one line to the next:
// the words found, and the arena their encoded lists go to.
type lineReader struct {
	spans wordSpans
	words wordArena
}

// init fills l, which must be zero, from its raw bytes, with its words in
// r's arena. It sets fields one by one: a whole Line literal written over
// an element of Parse's big slice is built on the stack and copied
// through the GC's write barrier.
func (l *Line) init(raw string, pos Position, r *lineReader) {
	l.Raw, l.Pos = raw, pos
	text := l.Text()
	comment, err := r.spans.tokenize(text)
	if err != nil {
		l.comment = errSingleQuote
		if te, ok := err.(*tokenError); ok {
			l.Pos.Col = te.col
			if te.msg == msgDoubleQuote {
				l.comment = errDoubleQuote
			}
		}
		return
	}
	l.words, l.wideWords = r.words.encode(text, &r.spans)
	l.comment = noComment
	if comment >= 0 {
		l.comment = int32(comment)
	}
	l.setKey(text)
}

// setKey places the key of l's words in text, l's Raw without its
// terminator.
func (l *Line) setKey(text string) {
	var kw [4]string
	lo, hi, ok := keyRange(text, l.keyWords(&kw))
	if !ok || hi > int(keyOutside) {
		l.keyLo, l.keyHi = keyOutside, 0
		return
	}
	l.keyLo, l.keyHi = uint32(lo), uint32(hi)
}

// Text is the line without its terminator.
func (l *Line) Text() string { return strings.TrimSuffix(strings.TrimSuffix(l.Raw, "\n"), "\r") }

// EOL is the line's terminator: "\n", "\r\n" or "".
func (l *Line) EOL() string { return l.Raw[len(l.Text()):] }

// Indent is the whitespace that starts the line.
func (l *Line) Indent() string {
	t := l.Text()
	return t[:len(t)-len(strings.TrimLeft(t, " \t"))]
}

// IsDirective reports whether the line has words (it is not blank or only a comment).
func (l *Line) IsDirective() bool { return l.words != "" }

// SetParsed makes l, which must be zero, the line raw at pos whose words
// and comment the caller already has: it built raw from them. It is how the
// patch engine writes thousands of lines without tokenizing each again;
// words must be what NewLine(raw, pos) would give, and commentAt where its
// comment starts in raw, after the '#', or -1 for none (the engine's
// TestNewLineOfMatchesNewLine holds it to that). words is not kept: the
// line finds each word in raw (as it is, for a plain text), and keeps a
// copy of the words only when one is not there.
func (l *Line) SetParsed(raw string, pos Position, words []string, commentAt int) {
	l.Raw, l.Pos, l.comment = raw, pos, noComment
	if commentAt >= 0 {
		l.comment = int32(commentAt)
	}
	text := l.Text()
	l.words, l.wideWords = encodeFound(text, words)
	l.setKey(text)
}

// Section is a section header and the lines that follow it up to the next header.
type Section struct {
	Header *Line
	// Kind is the header's keyword: global, defaults, frontend, backend, ...
	Kind string
	// Name is the section's name, empty for global and unnamed defaults.
	Name string
	// From is the defaults section named after "from", if any.
	From string
	Body []*Line
}

// Title is the kind and name, as in "backend http-app1".
func (s *Section) Title() string {
	if s.Name == "" {
		return s.Kind
	}
	return s.Kind + " " + s.Name
}

// Indent is the indentation of the section's first directive, or four spaces
// (the indentation Ray uses) when the section has none.
func (s *Section) Indent() string {
	for _, l := range s.Body {
		if l.IsDirective() {
			return l.Indent()
		}
	}
	return "    "
}

// Lines yields the body lines of s whose first word is keyword, in order.
func (s *Section) Lines(keyword string) iter.Seq[*Line] {
	return func(yield func(*Line) bool) {
		for _, l := range s.Body {
			if l.IsDirective() && l.Keyword() == keyword && !yield(l) {
				return
			}
		}
	}
}

// Insert puts lines into the body before index i (len(s.Body) appends).
func (s *Section) Insert(i int, lines ...*Line) {
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
	// insert makes thousands of adds to one section quadratic in memory.
	s.Body = slices.Insert(s.Body, i, lines...)
}

// EOL is the line terminator the section uses, so that lines written into a
// CRLF file are CRLF too.
func (s *Section) EOL() string {
	if eol := s.Header.EOL(); eol != "" {
		return eol
	}
	for _, l := range s.Body {
		if eol := l.EOL(); eol != "" {
			return eol
		}
	}
	return "\n"
}

// File is a parsed configuration file.
type File struct {
	Name string
	// Preamble holds the lines before the first section header.
	Preamble []*Line
	Sections []*Section
}

// Parse splits data into lines and sections. It always returns a file that
// renders back to data; the error lists lines whose quotes do not close.
func Parse(name string, data []byte) (*File, error) {
	return parse(name, string(data))
}

// ParseOwned is Parse of data the caller hands over: the model's lines and
// words are parts of data itself, not of a copy, so the caller must never
// change data afterwards. The shim and render, which read a config only to
// patch it, so hold a large config once in memory rather than twice (2 MB
// at 16384 servers, with the garbage collector off).
func ParseOwned(name string, data []byte) (*File, error) {
	return parse(name, unsafe.String(unsafe.SliceData(data), len(data)))
}

func parse(name, text string) (*File, error) {
	f := &File{Name: name}
	var errs ErrorList
	// haproxy refuses a NUL byte ("Stray NUL character"), and one marks a
	// binary file given by mistake, which would otherwise fail later with a
	// confusing error about a snippet whose sections are missing.
	if i := strings.IndexByte(text, 0); i >= 0 {
		line := strings.Count(text[:i], "\n") + 1
		col := i - strings.LastIndexByte(text[:i], '\n')
		errs.Add(Position{File: name, Line: line, Col: col}, "NUL byte: this is not a text haproxy config (a binary file?)")
	}
	// Every line's Raw (and every word that needs no decoding) are
	// substrings of text. The lines live in one slice and their words in a
	// few shared chunks: a generated config has thousands of lines, and
	// per-line allocations would be most of Parse's cost and of the garbage
	// collector's work in the shim.
	lines := initLines(name, text)
	// A section's body is the lines up to the next header: each is given
	// a slice of its exact size, and a few slots to spare for the lines an
	// edit adds, instead of growing by appends, whose outgrown slices the
	// shim (its garbage collector off) would keep to its exit.
	body := func(from, to int) []*Line {
		if from == to {
			return nil
		}
		b := make([]*Line, to-from, to-from+bodySpare)
		for i := range b {
			b[i] = &lines[from+i]
		}
		return b
	}
	start, cur := 0, (*Section)(nil)
	for i := range lines {
		l := &lines[i]
		if err := l.Err(); err != nil {
			errs = append(errs, &Error{Pos: l.Pos, Err: err})
		}
		if IsSectionKeyword(l.Keyword()) {
			if cur == nil {
				f.Preamble = body(start, i)
			} else {
				cur.Body = body(start, i)
			}
			cur = NewSection(l)
			f.Sections = append(f.Sections, cur)
			start = i + 1
		}
	}
	if cur == nil {
		f.Preamble = body(start, len(lines))
	} else {
		cur.Body = body(start, len(lines))
	}
	return f, errs.Err()
}

// bodySpare is how many lines a parsed body has room for before it grows:
// the repository's snippets add one or two to each backend.
const bodySpare = 4

// initLines splits text into lines and tokenizes each, into one slice, on
// one goroutine (BENCHMARKS.md's design notes say why).
func initLines(name, text string) []Line {
	lines := hugepage.Make[Line](strings.Count(text, "\n") + 1)
	r := lineReader{words: wordArena{chunk: 16 << 10}}
	n := 0
	for len(text) > 0 {
		raw := text
		if j := strings.IndexByte(text, '\n'); j >= 0 {
			raw = text[:j+1]
		}
		text = text[len(raw):]
		lines[n].init(raw, Position{File: name, Line: n + 1}, &r)
		n++
	}
	return lines[:n]
}

// NewSection starts a section at header, a line whose first word is a
// section keyword, with an empty body.
func NewSection(header *Line) *Section {
	s := &Section{Header: header, Kind: header.Word(0)}
	i, n := 1, header.NumWords()
	if i < n && header.Word(i) != "from" {
		s.Name = header.Word(i)
		i++
	}
	if i+1 < n && header.Word(i) == "from" {
		s.From = header.Word(i + 1)
	}
	return s
}

// Render returns the file's bytes: every line's raw bytes, in order.
func (f *File) Render() []byte {
	n := 0
	f.eachLine(func(l *Line) { n += len(l.Raw) })
	b := make([]byte, 0, n)
	f.eachLine(func(l *Line) { b = append(b, l.Raw...) })
	return b
}

// WriteTo writes the file's bytes to w, as Render returns them, without
// building them in memory first; w should be buffered.
func (f *File) WriteTo(w io.Writer) (int64, error) {
	var n int64
	var err error
	f.eachLine(func(l *Line) {
		if err == nil {
			var m int
			m, err = io.WriteString(w, l.Raw)
			n += int64(m)
		}
	})
	return n, err
}

// LineAt returns the file's n-th line (1-based) as rendered, or nil: the
// line haproxy names by its number.
func (f *File) LineAt(n int) *Line {
	if n <= 0 {
		return nil
	}
	if n <= len(f.Preamble) {
		return f.Preamble[n-1]
	}
	n -= len(f.Preamble)
	for _, s := range f.Sections {
		if n == 1 {
			return s.Header
		}
		if n-1 <= len(s.Body) {
			return s.Body[n-2]
		}
		n -= 1 + len(s.Body)
	}
	return nil
}

// LastLine returns the file's last line as rendered, or nil for an empty
// file.
func (f *File) LastLine() *Line {
	if len(f.Sections) > 0 {
		s := f.Sections[len(f.Sections)-1]
		if len(s.Body) > 0 {
			return s.Body[len(s.Body)-1]
		}
		return s.Header
	}
	if len(f.Preamble) > 0 {
		return f.Preamble[len(f.Preamble)-1]
	}
	return nil
}

func (f *File) eachLine(fn func(*Line)) {
	for _, l := range f.Preamble {
		fn(l)
	}
	for _, s := range f.Sections {
		fn(s.Header)
		for _, l := range s.Body {
			fn(l)
		}
	}
}

// Find returns the sections of the given kind and name.
func (f *File) Find(kind, name string) []*Section {
	var out []*Section
	for _, s := range f.Sections {
		if s.Kind == kind && s.Name == name {
			out = append(out, s)
		}
	}
	return out
}
