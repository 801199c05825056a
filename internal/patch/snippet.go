package patch

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"text/template"
	"unicode"

	"github.com/pelletier/go-toml/v2"
	"github.com/pelletier/go-toml/v2/unstable"
)

// MaxSnippetSize bounds one snippet file; a larger one is an error, not a
// slow start of haproxy.
const MaxSnippetSize = 1 << 20

// The TOML shape of a snippet file. Field names are the user contract
// documented in the README; keep them.
type snippetDoc struct {
	Edit    []editDoc    `toml:"edit"`
	Section []sectionDoc `toml:"section"`
}

type editDoc struct {
	Section  string      `toml:"section"`
	Exclude  []string    `toml:"exclude"`
	Optional bool        `toml:"optional"`
	Force    bool        `toml:"force"`
	Set      []string    `toml:"set"`
	Add      []string    `toml:"add"`
	Delete   []string    `toml:"delete"`
	Insert   []insertDoc `toml:"insert"`
	Params   []paramsDoc `toml:"params"`
}

type insertDoc struct {
	Before string   `toml:"before"`
	After  string   `toml:"after"`
	Lines  []string `toml:"lines"`
}

type paramsDoc struct {
	On     string   `toml:"on"`
	Set    string   `toml:"set"`
	Delete []string `toml:"delete"`
}

type sectionDoc struct {
	Header string   `toml:"header"`
	Lines  []string `toml:"lines"`
	Before string   `toml:"before"`
	Force  bool     `toml:"force"`
}

// Snippet is one loaded and validated overrides.d file.
type Snippet struct {
	// Name is the file name, as used in messages and provenance comments.
	Name string
	// Path is the file's path.
	Path string
	// SHA256 is the hex digest of the file's bytes, for status and logs.
	SHA256   string
	edits    []*edit
	sections []*addSection
	// nodes counts the parse nodes of the snippet's templates so far.
	nodes int
}

// tmplLine is a line of a snippet: a template and the position it came from.
type tmplLine struct {
	pos  Position
	text string
	tmpl *template.Template // nil when the text has no template action
	// nodes is the template's number of parse nodes, the most one
	// evaluation can visit (see checkTemplate); -1 for a template left
	// unparsed once the snippet's templates passed maxSnippetNodes.
	nodes int
}

type selector struct {
	kind string
	name *glob // nil: every section of the kind
}

type edit struct {
	pos      Position
	sel      selector
	exclude  []*glob
	optional bool
	force    bool
	set      []tmplLine
	add      []tmplLine
	delete   []*glob
	deletePs []Position
	insert   []insertOp
	params   []paramsOp
}

type insertOp struct {
	pos    Position
	before bool
	anchor *glob
	lines  []tmplLine
}

type paramsOp struct {
	pos    Position
	on     *glob
	set    []param
	delete []string
}

type addSection struct {
	pos    Position
	header tmplLine
	kind   string
	name   string
	lines  []tmplLine
	before *selector
	force  bool
}

// positions maps a TOML path such as "edit.0.set.2" to the line it is on.
type positions map[string]int

// The shape of a snippet is small: tables of a few keys holding lists of
// lines. TOML allows far more, and some of it costs the decoder and the
// position walk time and memory out of proportion to the file (a key of
// 500,000 dotted parts, tens of thousands of tables), so tomlPositions
// refuses a file past these bounds before it is decoded. Each is far above
// what any real snippet needs.
const (
	// maxKeyParts bounds the dotted parts of a key or table name.
	maxKeyParts = 8
	// maxKeyLen bounds a key or table name, in bytes.
	maxKeyLen = 256
	// maxNesting bounds how deep arrays and inline tables nest.
	maxNesting = 8
	// maxTables bounds the [[edit]] and [[section]] tables and the inline
	// tables (insert and params entries) of one snippet.
	maxTables = 512
	// maxValues bounds the keys and array elements of one snippet: about
	// the number of lines it may write.
	maxValues = 2048
)

// tomlScan is the state of one walk of tomlPositions.
type tomlScan struct {
	file   string
	p      unstable.Parser
	eols   []int // offsets of the file's line breaks
	pos    positions
	single ErrorList
	tables int
	values int
	// limit is the first bound of the snippet's shape the file passes.
	limit *Error
}

// line is the line a node starts on, or 0 when the node has no position.
// The line breaks are indexed once: asking the parser for each node's
// position scans the file from its start every time.
func (sc *tomlScan) line(n *unstable.Node) int {
	if n.Raw.Length == 0 {
		return 0
	}
	return sort.SearchInts(sc.eols, int(n.Raw.Offset)) + 1
}

// exceeds records that the file passes a bound at line, once.
func (sc *tomlScan) exceeds(line int, format string, args ...any) {
	if sc.limit == nil {
		sc.limit = Errorf(Position{File: sc.file, Line: max(line, 1)}, format, args...)
	}
}

// key reads the parts of a key, refusing one longer or deeper than any
// snippet key; the first part's line is returned with them.
func (sc *tomlScan) key(it unstable.Iterator) ([]string, int) {
	var parts []string
	l, size := 0, 0
	for it.Next() {
		n := it.Node()
		if l == 0 {
			l = sc.line(n)
		}
		size += len(n.Data) + 1
		if len(parts) == maxKeyParts || size > maxKeyLen {
			sc.exceeds(l, "key is longer than any snippet key (more than %d parts or %d bytes)", maxKeyParts, maxKeyLen)
			return nil, l
		}
		parts = append(parts, string(n.Data))
	}
	return parts, l
}

// tomlPositions walks the TOML syntax tree of data and records the line of
// every array-table entry, key and array element, so that errors and
// provenance comments can name the line a value came from. It runs before
// the file is decoded, and stops at the first bound of the snippet's shape
// the file passes (see maxValues), returned as limit. On a TOML syntax
// error it stops there, and the decoder names the error.
//
// single lists every [table] header, such as [edit] for [[edit]]: every
// table of a snippet is an array of tables, and go-toml decodes a single
// table into a list of one, so [edit] would load, but every position in it
// would fall back to the header's line and name the wrong line in errors
// and provenance comments. The check rides on this walk so that a snippet
// is not parsed once more on every haproxy start.
func tomlPositions(file string, data []byte) (pos positions, single ErrorList, limit *Error) {
	sc := &tomlScan{file: file, pos: positions{}}
	for i, c := range data {
		if c == '\n' {
			sc.eols = append(sc.eols, i)
		}
	}
	counts := map[string]int{}
	sc.p.Reset(data)
	var value func(path string, n *unstable.Node, fallback, depth int)
	keyValue := func(prefix string, kv *unstable.Node, depth int) {
		parts, l := sc.key(kv.Key())
		if sc.limit != nil {
			return
		}
		if sc.values++; sc.values > maxValues {
			sc.exceeds(l, "snippet has more than %d keys and list entries; split it into several files", maxValues)
			return
		}
		path := prefix + strings.Join(parts, ".")
		sc.pos[path] = l
		value(path, kv.Value(), l, depth)
	}
	value = func(path string, n *unstable.Node, fallback, depth int) {
		if n.Kind != unstable.Array && n.Kind != unstable.InlineTable {
			return
		}
		if depth == maxNesting {
			sc.exceeds(fallback, "lists and tables nest more than %d deep", maxNesting)
			return
		}
		if n.Kind == unstable.InlineTable {
			if sc.tables++; sc.tables > maxTables {
				sc.exceeds(fallback, "snippet has more than %d tables; split it into several files", maxTables)
				return
			}
			it := n.Children()
			for it.Next() && sc.limit == nil {
				if it.Node().Kind == unstable.KeyValue {
					keyValue(path+".", it.Node(), depth+1)
				}
			}
			return
		}
		i := 0
		it := n.Children()
		for it.Next() && sc.limit == nil {
			child := it.Node()
			p := path + "." + strconv.Itoa(i)
			l := sc.line(child)
			if l == 0 {
				l = fallback
			}
			if sc.values++; sc.values > maxValues {
				sc.exceeds(l, "snippet has more than %d keys and list entries; split it into several files", maxValues)
				return
			}
			sc.pos[p] = l
			value(p, child, l, depth+1)
			i++
		}
	}
	prefix := ""
	for sc.limit == nil && sc.p.NextExpression() {
		e := sc.p.Expression()
		switch e.Kind {
		case unstable.KeyValue:
			keyValue(prefix, e, 0)
		case unstable.Table, unstable.ArrayTable:
			parts, l := sc.key(e.Key())
			if sc.limit != nil {
				break
			}
			if sc.tables++; sc.tables > maxTables {
				sc.exceeds(l, "snippet has more than %d tables; split it into several files", maxTables)
				break
			}
			// Resolve every part but the last to the current entry of its array.
			path := ""
			for i, part := range parts {
				if path != "" {
					path += "."
				}
				path += part
				if i < len(parts)-1 {
					if n, ok := counts[path]; ok {
						path += "." + strconv.Itoa(n-1)
					}
				}
			}
			if e.Kind == unstable.ArrayTable {
				n := counts[path]
				counts[path] = n + 1
				path += "." + strconv.Itoa(n)
			} else {
				name := strings.Join(parts, ".")
				sc.single.Add(Position{File: file, Line: l}, "[%s] is a single table; snippets take arrays of tables: write [[%s]]", name, name)
			}
			sc.pos[path] = l
			prefix = path + "."
		}
	}
	return sc.pos, sc.single, sc.limit
}

// at returns the position of a TOML path, falling back to its parents.
func (p positions) at(file, path string) Position {
	for {
		if l, ok := p[path]; ok && l > 0 {
			return Position{File: file, Line: l}
		}
		i := strings.LastIndexByte(path, '.')
		if i < 0 {
			return Position{File: file}
		}
		path = path[:i]
	}
}

// LoadSnippet decodes and validates one snippet file. Every problem is
// reported, each with its file:line.
func LoadSnippet(name string, data []byte) (*Snippet, error) {
	sum := sha256.Sum256(data)
	s := &Snippet{Name: filepath.Base(name), Path: name, SHA256: hex.EncodeToString(sum[:])}
	file := s.Name
	var errs ErrorList
	if len(data) > MaxSnippetSize {
		errs.Add(Position{File: file}, "snippet is %d bytes, more than the limit of %d", len(data), MaxSnippetSize)
		return nil, errs
	}
	// A file saved by a Windows editor may start with a UTF-8 byte order
	// mark, which go-toml reads as a key ("invalid character ... 'ï'"); it
	// carries nothing, so it is skipped. The digest above covers it still.
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	// The shape is checked first, on the bytes and then on the syntax tree:
	// decoding a file far outside it costs more than both.
	if err := prescanTOML(file, data); err != nil {
		return nil, ErrorList{err}
	}
	pos, single, limit := tomlPositions(file, data)
	if limit != nil {
		return nil, ErrorList{limit}
	}
	var doc snippetDoc
	dec := toml.NewDecoder(bytes.NewReader(data)).DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		return nil, tomlErrors(file, pos, err)
	}
	if len(single) > 0 {
		return nil, single
	}
	pos.checkKeyCase(file, &errs)
	for i, sd := range doc.Section {
		if ns := s.loadSection(pos, i, sd, &errs); ns != nil {
			s.sections = append(s.sections, ns)
		}
	}
	for i, ed := range doc.Edit {
		if e := s.loadEdit(pos, i, ed, &errs); e != nil {
			s.edits = append(s.edits, e)
		}
	}
	if len(doc.Edit) == 0 && len(doc.Section) == 0 {
		errs.Add(Position{File: file, Line: 1}, "snippet has no [[edit]] and no [[section]]: nothing to do")
	}
	if len(errs) > 0 {
		errs.Sort()
		return nil, errs
	}
	return s, nil
}

// tomlErrors turns go-toml's errors into positioned errors; pos are the
// file's positions, for the full names of unknown keys.
func tomlErrors(file string, pos positions, err error) error {
	var errs ErrorList
	var strict *toml.StrictMissingError
	var de *toml.DecodeError
	switch {
	case errors.As(err, &strict):
		byLine := pos.byLine()
		for i := range strict.Errors {
			row, col := strict.Errors[i].Position()
			key := strict.Errors[i].Key()
			errs.Add(Position{File: file, Line: row, Col: col}, "%s", unknownKey(tableAt(byLine[row], key)))
		}
	case errors.As(err, &de):
		row, col := de.Position()
		errs.Add(Position{File: file, Line: row, Col: col}, "%s", typeError(de.Error()))
	default:
		errs.Add(Position{File: file}, "%v", err)
	}
	return errs
}

// byLine groups the paths of p by their line, for tableAt.
func (p positions) byLine() map[int][]string {
	m := map[int][]string{}
	for path, line := range p {
		m[line] = append(m[line], path)
	}
	return m
}

// tableAt returns the full key of an unknown key that go-toml reports, given
// the paths on its line: for a key inside an inline table of an array, such
// as insert = [{ befor = ... }], go-toml leaves out "insert", so the key is
// looked up by its line in the syntax tree.
func tableAt(paths []string, key []string) []string {
	if len(key) == 0 {
		return key
	}
	name := key[len(key)-1]
	best := key
	for _, path := range paths {
		if path != name && !strings.HasSuffix(path, "."+name) {
			continue
		}
		var parts []string
		for _, part := range strings.Split(path, ".") {
			if _, err := strconv.Atoi(part); err != nil {
				parts = append(parts, part)
			}
		}
		if len(parts) > len(best) || (len(parts) == len(best) && strings.Join(parts, ".") < strings.Join(best, ".")) {
			best = parts
		}
	}
	return best
}

// typeErrRE matches go-toml's message for a value of the wrong type, which
// names Go types: "cannot decode TOML string into struct field
// patch.editDoc.Set of type []string".
// Compiled on first use, since package init runs on every shim start.
var typeErrRE = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`cannot decode TOML ([a-z ]+?) into struct field patch\.(\w+)Doc\.(\w+) of type`)
})

// fieldShapes says what each snippet key takes, in TOML words.
var fieldShapes = map[string]string{
	"snippet.edit":    "[[edit]] tables",
	"snippet.section": "[[section]] tables",
	"edit.section":    `a string, such as "backend *"`,
	"edit.exclude":    "a list of strings",
	"edit.optional":   "true or false",
	"edit.force":      "true or false",
	"edit.set":        "a list of strings",
	"edit.add":        "a list of strings",
	"edit.delete":     "a list of strings",
	"edit.insert":     `a list of tables, such as [{ after = "GLOB", lines = ["..."] }]`,
	"edit.params":     `a list of tables, such as [{ on = "default-server", set = "maxconn 32" }]`,
	"insert.before":   "a string",
	"insert.after":    "a string",
	"insert.lines":    "a list of strings",
	"params.on":       "a string",
	"params.set":      `a string, such as "maxconn 32 check"`,
	"params.delete":   "a list of strings",
	"section.header":  "a string",
	"section.lines":   "a list of strings",
	"section.before":  "a string",
	"section.force":   "true or false",
}

var docTables = map[string]string{
	"snippet": "at the top level", "edit": "in [[edit]]", "insert": "in an insert entry of [[edit]]",
	"params": "in a params entry of [[edit]]", "section": "in [[section]]",
}

// typeError rewrites go-toml's wrong-type message in the snippet's terms.
func typeError(msg string) string {
	m := typeErrRE().FindStringSubmatch(msg)
	if m == nil {
		return msg
	}
	key := strings.ToLower(m[3])
	shape, ok := fieldShapes[m[2]+"."+key]
	if !ok {
		return msg
	}
	return fmt.Sprintf("%s %s takes %s; found a TOML %s", key, docTables[m[2]], shape, m[1])
}

// checkKeyCase refuses keys written in another case than the contract's:
// go-toml matches struct fields case-insensitively, so "Set" would decode,
// but its values would lose their positions and the snippet would break on
// a stricter reader.
func (p positions) checkKeyCase(file string, errs *ErrorList) {
	paths := make([]string, 0, len(p))
	for path := range p {
		// Every known key is lower-case ASCII, so a path without an upper-case
		// or non-ASCII byte (which strings.EqualFold could fold, as it folds
		// the Kelvin sign to k) cannot misspell one: the common case, skipped
		// without splitting it.
		if !lowerASCII(path) {
			paths = append(paths, path)
		}
	}
	sort.Strings(paths)
	seen := map[string]bool{}
	for _, path := range paths {
		var parts []string
		for _, part := range strings.Split(path, ".") {
			if _, err := strconv.Atoi(part); err != nil {
				parts = append(parts, part)
			}
		}
		// Array elements share their key's path; say it once per line.
		once := fmt.Sprintf("%s@%d", strings.Join(parts, "."), p[path])
		if len(parts) == 0 || seen[once] {
			continue
		}
		seen[once] = true
		table := strings.ToLower(strings.Join(parts[:len(parts)-1], "."))
		name := parts[len(parts)-1]
		known, ok := knownKeys[table]
		if !ok {
			continue
		}
		for _, k := range strings.Split(known, ", ") {
			if name != k && strings.EqualFold(name, k) {
				errs.Add(Position{File: file, Line: p[path]}, "key %q %s must be written %q", name, tableNames[table], k)
			}
		}
	}
}

// lowerASCII reports whether s has no upper-case ASCII letter and no byte
// outside ASCII.
func lowerASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 0x80 || ('A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}

// knownKeys lists the keys each table of a snippet takes, for the message
// about a misspelt one.
var knownKeys = map[string]string{
	"":            "edit, section",
	"edit":        "section, exclude, optional, force, set, add, delete, insert, params",
	"edit.insert": "before, after, lines",
	"edit.params": "on, set, delete",
	"section":     "header, lines, before, force",
}

// tableNames says where a key is, in the words a snippet author uses.
var tableNames = map[string]string{
	"":            "at the top level",
	"edit":        "in [[edit]]",
	"edit.insert": "in an insert entry of [[edit]]",
	"edit.params": "in a params entry of [[edit]]",
	"section":     "in [[section]]",
}

func unknownKey(key []string) string {
	if len(key) == 0 {
		return "unknown key"
	}
	table := strings.Join(key[:len(key)-1], ".")
	name := key[len(key)-1]
	where, ok := tableNames[table]
	if !ok {
		where = "in " + table
	}
	if known, ok := knownKeys[table]; ok {
		return fmt.Sprintf("unknown key %q %s (known: %s)", name, where, known)
	}
	return fmt.Sprintf("unknown key %q %s", name, where)
}

func (s *Snippet) loadSection(pos positions, i int, sd sectionDoc, errs *ErrorList) *addSection {
	path := fmt.Sprintf("section.%d", i)
	ns := &addSection{pos: pos.at(s.Name, path), force: sd.Force}
	hpos := pos.at(s.Name, path+".header")
	if strings.TrimSpace(sd.Header) == "" {
		errs.Add(ns.pos, "[[section]] needs a header, such as header = \"frontend metrics_local\"")
		return nil
	}
	ns.header = s.loadLine(hpos, sd.Header, errs)
	if tok, err := Tokenize(sd.Header); err == nil && len(tok.Words) > 0 {
		if !IsSectionKeyword(tok.Words[0]) {
			errs.Add(hpos, "section header %q does not start with a section keyword (global, defaults, frontend, backend, listen, ...)", sd.Header)
			return nil
		}
		ns.kind = tok.Words[0]
		if len(tok.Words) > 1 {
			ns.name = tok.Words[1]
		}
		if ns.name == "" && proxyKinds[ns.kind] {
			errs.Add(hpos, "a %s section needs a name", ns.kind)
		}
	}
	for j, l := range sd.Lines {
		lp := pos.at(s.Name, fmt.Sprintf("%s.lines.%d", path, j))
		ns.lines = append(ns.lines, s.loadBodyLine(lp, l, errs))
	}
	if sd.Before != "" {
		sel, err := parseSelector(sd.Before)
		if err != nil {
			errs.Add(pos.at(s.Name, path+".before"), "%v", err)
		} else {
			ns.before = &sel
		}
	}
	return ns
}

// proxyKinds are the sections that share HAProxy's proxy name space.
var proxyKinds = map[string]bool{"frontend": true, "backend": true, "listen": true}

func (s *Snippet) loadEdit(pos positions, i int, ed editDoc, errs *ErrorList) *edit {
	path := fmt.Sprintf("edit.%d", i)
	nerrs := len(*errs)
	e := &edit{pos: pos.at(s.Name, path), optional: ed.Optional, force: ed.Force}
	if ed.Section == "" {
		errs.Add(e.pos, "[[edit]] needs section = \"KIND [NAME-GLOB]\", such as section = \"backend *\"")
		return nil
	}
	sel, err := parseSelector(ed.Section)
	if err != nil {
		errs.Add(pos.at(s.Name, path+".section"), "%v", err)
		return nil
	}
	e.sel = sel
	for j, x := range ed.Exclude {
		g, err := compileGlob(x)
		if err != nil {
			errs.Add(pos.at(s.Name, fmt.Sprintf("%s.exclude.%d", path, j)), "exclude: %v", err)
			continue
		}
		e.exclude = append(e.exclude, g)
	}
	for j, l := range ed.Set {
		lp := pos.at(s.Name, fmt.Sprintf("%s.set.%d", path, j))
		tl := s.loadBodyLine(lp, l, errs)
		if tl.tmpl == nil {
			checkSetLine(lp, l, errs)
		}
		e.set = append(e.set, tl)
	}
	for j, l := range ed.Add {
		lp := pos.at(s.Name, fmt.Sprintf("%s.add.%d", path, j))
		tl := s.loadBodyLine(lp, l, errs)
		if tl.tmpl == nil {
			checkAddLine(lp, sel.kind, l, errs)
		}
		e.add = append(e.add, tl)
	}
	for j, d := range ed.Delete {
		lp := pos.at(s.Name, fmt.Sprintf("%s.delete.%d", path, j))
		g, err := compileGlob(strings.Join(strings.Fields(d), " "))
		if err != nil || strings.TrimSpace(d) == "" {
			errs.Add(lp, "delete: bad key glob %q", d)
			continue
		}
		e.delete = append(e.delete, g)
		e.deletePs = append(e.deletePs, lp)
	}
	for j, in := range ed.Insert {
		ip := fmt.Sprintf("%s.insert.%d", path, j)
		op := insertOp{pos: pos.at(s.Name, ip)}
		anchor := in.After
		switch {
		case in.Before != "" && in.After != "":
			errs.Add(op.pos, "insert: give before or after, not both")
			continue
		case in.Before != "":
			op.before, anchor = true, in.Before
		case in.After == "":
			errs.Add(op.pos, "insert: needs before = GLOB or after = GLOB")
			continue
		}
		g, err := compileGlob(strings.Join(strings.Fields(anchor), " "))
		if err != nil {
			errs.Add(op.pos, "insert: %v", err)
			continue
		}
		op.anchor = g
		if len(in.Lines) == 0 {
			errs.Add(op.pos, "insert: lines is empty")
		}
		for k, l := range in.Lines {
			op.lines = append(op.lines, s.loadBodyLine(pos.at(s.Name, fmt.Sprintf("%s.lines.%d", ip, k)), l, errs))
		}
		e.insert = append(e.insert, op)
	}
	for j, pd := range ed.Params {
		pp := pos.at(s.Name, fmt.Sprintf("%s.params.%d", path, j))
		op := paramsOp{pos: pp, delete: pd.Delete}
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
		op.on = g
		if pd.Set == "" && len(pd.Delete) == 0 {
			errs.Add(pp, "params: needs set = \"name value ...\" or delete = [\"name\", ...]")
			continue
		}
		tok, err := Tokenize(pd.Set)
		if err != nil {
			errs.Add(pp, "params: set: %v", err)
			continue
		}
		op.set = parseParams(tok.Words)
		if err := checkParams(op.set); err != nil {
			errs.Add(pp, "params: set = %q: %v", pd.Set, err)
			continue
		}
		// Deleting what the same entry sets moves the parameter to the end
		// on every run after the first (found by FuzzLoadSnippet).
		if name := setAndDeleted(op.set, pd.Delete); name != "" {
			errs.Add(pp, "params: %q is both set and deleted; give it in one of them", name)
			continue
		}
		e.params = append(e.params, op)
	}
	// An edit whose only entries were refused above already has its message.
	if len(e.set)+len(e.add)+len(e.delete)+len(e.insert)+len(e.params) == 0 && len(*errs) == nerrs {
		errs.Add(e.pos, "[[edit]] of %q has nothing to do: give set, add, delete, insert or params", ed.Section)
	}
	return e
}

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
// the merged line: parseParams takes any word that is not a known flag as a
// name followed by its value, so an unknown flag (or a stray value) would
// swallow the next parameter the next time the line is merged.
func checkParams(ps []param) error {
	for _, p := range ps {
		if !isParamName(p.name) {
			return fmt.Errorf("%q is not a parameter name", p.name)
		}
		if p.flag && !paramFlags[p.name] {
			return fmt.Errorf("%q has no value and is not a flag serve-launch knows (check, backup, disabled, ssl, ...)", p.name)
		}
		if limit, ok := serverLimits[p.name]; ok && !p.flag {
			if msg := integerProblem(p.name, p.value, limit); msg != "" {
				return errors.New(msg)
			}
		}
	}
	return nil
}

// setAndDeleted returns a parameter name both in set and in delete, or "".
func setAndDeleted(set []param, del []string) string {
	for _, p := range set {
		for _, d := range del {
			if d == p.name {
				return p.name
			}
		}
	}
	return ""
}

// parseSelector reads "KIND" or "KIND NAME-GLOB".
func parseSelector(s string) (selector, error) {
	f := strings.Fields(s)
	if len(f) == 0 || len(f) > 2 {
		return selector{}, fmt.Errorf("bad section selector %q: want KIND or KIND NAME-GLOB, such as \"backend *\"", s)
	}
	if !IsSectionKeyword(f[0]) {
		return selector{}, fmt.Errorf("bad section selector %q: %q is not a section keyword (global, defaults, frontend, backend, listen, ...)", s, f[0])
	}
	sel := selector{kind: f[0]}
	if len(f) == 2 {
		g, err := compileGlob(f[1])
		if err != nil {
			return selector{}, fmt.Errorf("bad section selector %q: %v", s, err)
		}
		sel.name = g
	}
	return sel, nil
}

func (sel selector) String() string {
	if sel.name == nil {
		return sel.kind
	}
	return sel.kind + " " + sel.name.pattern
}

func (sel selector) match(s *Section) bool {
	if s.Kind != sel.kind {
		return false
	}
	return sel.name == nil || sel.name.match(s.Name)
}

// loadLine parses a snippet value as a template when it has actions.
func (s *Snippet) loadLine(pos Position, text string, errs *ErrorList) tmplLine {
	tl := tmplLine{pos: pos, text: text}
	if strings.Contains(text, "{{") {
		// Parsing is linear, but what it builds is what every evaluation
		// walks: a template is held to the length of the line it writes.
		if len(text) > MaxLineSize {
			errs.Add(pos, "template of %d bytes is longer than the limit of %d", len(text), MaxLineSize)
			return tl
		}
		if s.nodes > maxSnippetNodes {
			tl.nodes = -1 // said once, at the template that passed the limit
			return tl
		}
		t, err := template.New(pos.String()).Option("missingkey=error").Funcs(templateFuncs(nil, nil)).Parse(text)
		if err != nil {
			errs.Add(pos, "template: %v", cleanTemplateErr(err))
			return tl
		}
		nodes, err := checkTemplate(t)
		if err != nil {
			errs.Add(pos, "template: %v", err)
			return tl
		}
		if s.nodes += nodes; s.nodes > maxSnippetNodes {
			errs.Add(pos, "template: the snippet's templates have more than %d parts in all; split it, or write fewer templated lines", maxSnippetNodes)
			return tl
		}
		tl.tmpl, tl.nodes = t, nodes
	}
	return tl
}

// loadBodyLine loads a line meant for a section body and checks what can be
// checked before templates run.
func (s *Snippet) loadBodyLine(pos Position, text string, errs *ErrorList) tmplLine {
	n := len(*errs)
	tl := s.loadLine(pos, text, errs)
	// A template that did not load has its message; its text is no line.
	if tl.tmpl == nil && len(*errs) == n && tl.nodes >= 0 {
		if err := checkBodyLine(text); err != nil {
			errs.Add(pos, "%v", err)
		}
	}
	return tl
}

// checkBodyLine refuses lines that would not stay one directive of the section.
func checkBodyLine(text string) error {
	if len(text) > MaxLineSize {
		return fmt.Errorf("line of %d bytes is longer than the limit of %d", len(text), MaxLineSize)
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
	tok, err := Tokenize(text)
	if err != nil {
		return fmt.Errorf("line %q: %v", text, err)
	}
	if len(tok.Words) == 0 {
		return fmt.Errorf("line %q has no directive", text)
	}
	if IsSectionKeyword(tok.Words[0]) {
		return fmt.Errorf("line %q would open a new section: use [[section]] to add one", text)
	}
	if p := numericProblem(tok.Words); p != "" {
		return fmt.Errorf("line %q: %s", text, p)
	}
	return nil
}

// firstWins are global keywords where HAProxy keeps the FIRST line and only
// logs an alert for later ones, so appending one would silently do nothing.
var firstWins = map[string]bool{"maxconn": true, "maxconnrate": true, "maxsessrate": true}

// setProblem says why `set` of a line with these words cannot work, or "".
// Literal lines are checked at load; templated ones when they are rendered.
func setProblem(words []string) string {
	if len(words) > 0 && IsListKey(Key(words)) {
		return fmt.Sprintf("set: %q lines form an ordered rule list; use add, insert or delete", words[0])
	}
	return ""
}

// addProblem says why `add` of a line with these words to a section of kind
// cannot work, or "".
func addProblem(kind string, words []string) string {
	if kind == "global" && len(words) > 0 && firstWins[words[0]] {
		return fmt.Sprintf("add: global %s is first-wins in HAProxy (a second line is ignored); use set to replace it", words[0])
	}
	return ""
}

func checkSetLine(pos Position, text string, errs *ErrorList) {
	if tok, err := Tokenize(text); err == nil {
		if p := setProblem(tok.Words); p != "" {
			errs.Add(pos, "%s", p)
		}
	}
}

func checkAddLine(pos Position, kind, text string, errs *ErrorList) {
	if tok, err := Tokenize(text); err == nil {
		if p := addProblem(kind, tok.Words); p != "" {
			errs.Add(pos, "%s", p)
		}
	}
}

// templateNoiseRE matches the parts of text/template's execution errors that
// repeat the template's name or name Go types and functions.
// Compiled on first use, since package init runs on every shim start.
var templateNoiseRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^executing "[^"]*" |error calling \w+: `) })

func cleanTemplateErr(err error) string {
	msg := err.Error()
	// text/template prefixes "template: NAME:LINE:COL: "; the name is our position.
	if i := strings.Index(msg, ": "); i >= 0 && strings.HasPrefix(msg, "template: ") {
		rest := msg[len("template: "):]
		if j := strings.Index(rest, ": "); j >= 0 {
			msg = rest[j+2:]
		}
	}
	msg = templateNoiseRE().ReplaceAllString(msg, "")
	return strings.Replace(msg, "in type patch.TemplateContext",
		"(known: .Servers, .Backends, .Section.Kind, .Section.Name, .Section.Servers)", 1)
}

// Overrides is an ordered set of snippets, as loaded from an overrides.d directory.
type Overrides struct {
	Dir      string
	Snippets []*Snippet
}

// LoadOptions controls LoadDir.
type LoadOptions struct {
	// Warn receives a message for each file that is skipped with a warning.
	Warn func(msg string)
	// InsecureOverrides turns off the checks that the directory and every
	// snippet are writable by their owner only and owned by this user or
	// root (the --insecure-overrides flag).
	InsecureOverrides bool
	// UID is the user the files may belong to besides root; nil means this
	// process's effective user. Tests set it.
	UID *int
	// readOnly replaces the read-only file system test in tests.
	readOnly func(path string) bool
}

// LoadDir loads every *.toml file of dir in byte order of the file name.
// Other files are skipped with a warning; hidden files, *.example files and
// editor leftovers silently. Unless opt.InsecureOverrides is set, the
// directory and each snippet must be writable by their owner only and owned
// by this user or root. Every error of every file is returned in one
// ErrorList.
//
// With file errors, the Overrides returned still holds every snippet that
// loaded, so that the shim can apply those and leave the bad files out
// (see [Quarantine]); callers that need all or nothing treat any error as
// failure. It is nil only when the directory itself cannot be used.
func LoadDir(dir string, opt LoadOptions) (*Overrides, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("overrides directory: %v", err)
	}
	var perms *permChecker
	if !opt.InsecureOverrides {
		perms = newPermChecker(opt)
		if err := perms.checkDir(dir); err != nil {
			return nil, ErrorList{err}
		}
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		names = append(names, e.Name())
	}
	sort.Strings(names) // byte order, like systemd drop-ins
	o := &Overrides{Dir: dir}
	var errs ErrorList
	for _, name := range names {
		if ignoredSilently(name) {
			continue
		}
		path := filepath.Join(dir, name)
		if !strings.HasSuffix(name, ".toml") {
			if opt.Warn != nil {
				opt.Warn(fmt.Sprintf("%s: ignored: not a .toml file", path))
			}
			continue
		}
		data, ferr := readSnippetFile(dir, name, perms, opt)
		if ferr != nil {
			errs = append(errs, ferr)
			continue
		}
		if data == nil {
			continue // a directory, warned about
		}
		sn, err := LoadSnippet(name, data)
		if err != nil {
			var list ErrorList
			if errors.As(err, &list) {
				errs = append(errs, list...)
			} else {
				errs.Add(Position{File: name}, "%v", err)
			}
			continue
		}
		sn.Path = path
		o.Snippets = append(o.Snippets, sn)
	}
	return o, errs.Err()
}

// readSnippetFile reads the snippet dir/name, checking its ownership and
// mode with perms unless perms is nil (--insecure-overrides). A directory
// is skipped with a warning: it returns nil data and no error. Anything but
// a regular file (or a symlink to one) is refused before it is opened, with
// or without perms: a FIFO with a writer, or /dev/zero, would be read for
// as long as it gives bytes. The file is opened without blocking, checked
// again once open (it may have been swapped since the stat), and read up to
// MaxSnippetSize.
func readSnippetFile(dir, name string, perms *permChecker, opt LoadOptions) ([]byte, *Error) {
	path := filepath.Join(dir, name)
	st, err := os.Stat(path)
	if err != nil {
		return nil, Errorf(Position{File: path}, "%s", snippetFileErr(path, err))
	}
	if st.IsDir() {
		if opt.Warn != nil {
			opt.Warn(fmt.Sprintf("%s: ignored: a directory", path))
		}
		return nil, nil
	}
	if !st.Mode().IsRegular() {
		return nil, notRegular(path, st.Mode())
	}
	if perms != nil {
		if err := perms.checkFile(dir, name); err != nil {
			return nil, err
		}
	}
	if st.Size() > MaxSnippetSize {
		return nil, Errorf(Position{File: name}, "snippet is %d bytes, more than the limit of %d", st.Size(), MaxSnippetSize)
	}
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, Errorf(Position{File: path}, "%s", snippetFileErr(path, err))
	}
	defer f.Close()
	if st, err = f.Stat(); err != nil {
		return nil, Errorf(Position{File: path}, "%s", snippetFileErr(path, err))
	}
	if !st.Mode().IsRegular() {
		return nil, notRegular(path, st.Mode())
	}
	data := make([]byte, 0, min(st.Size(), MaxSnippetSize)+1)
	for len(data) <= MaxSnippetSize {
		n, err := f.Read(data[len(data):cap(data)])
		data = data[:len(data)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, Errorf(Position{File: path}, "%s", snippetFileErr(path, err))
		}
		if len(data) == cap(data) && len(data) <= MaxSnippetSize {
			// It grew since the stat: room for the rest, up to the limit.
			data = slices.Grow(data, min(2*cap(data), MaxSnippetSize+1)-len(data))
		}
	}
	if len(data) > MaxSnippetSize {
		return nil, Errorf(Position{File: name}, "snippet is more than the limit of %d bytes", MaxSnippetSize)
	}
	return data, nil
}

// notRegular refuses a snippet that is no regular file, naming what it is.
func notRegular(path string, mode fs.FileMode) *Error {
	what := "not a regular file"
	switch {
	case mode&fs.ModeNamedPipe != 0:
		what = "a FIFO (named pipe)"
	case mode&fs.ModeCharDevice != 0:
		what = "a character device"
	case mode&fs.ModeDevice != 0:
		what = "a block device"
	case mode&fs.ModeSocket != 0:
		what = "a socket"
	}
	return Errorf(Position{File: path}, "refusing the snippet: it is %s, not a regular file (or a symlink to one), and is not read", what)
}

// ignoredSilently reports hidden files, editor leftovers and examples
// (NAME.toml.example, disabled until renamed).
func ignoredSilently(name string) bool {
	return strings.HasPrefix(name, ".") || strings.HasSuffix(name, "~") || strings.HasSuffix(name, ".example") ||
		strings.HasSuffix(name, ".swp") || strings.HasSuffix(name, ".swo")
}

// snippetFileErr says why the snippet file at path cannot be used, without
// repeating the path the error is reported at, and naming the target of a
// dangling symlink (a deploy that retargeted a link, say).
func snippetFileErr(path string, err error) string {
	if errors.Is(err, fs.ErrNotExist) {
		if target, lerr := os.Readlink(path); lerr == nil {
			return fmt.Sprintf("a symlink to %s, which does not exist", target)
		}
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Op + ": " + pe.Err.Error()
	}
	return err.Error()
}
