package snippet

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/pelletier/go-toml/v2"
	"github.com/serve-launch/serve-launch/internal/patch/config"
)

// MaxSize bounds one snippet file; a larger one is an error, not a slow
// start of haproxy.
const MaxSize = 1 << 20

// The TOML shape of a snippet file. Field names are the user contract
// documented in docs/reference.md; keep them.
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

// Load decodes, validates and compiles one snippet file, named name (a
// path: messages and provenance comments name its base). Every problem is
// reported, each with its file:line, in a config.ErrorList.
func Load(name string, data []byte) (*Snippet, error) {
	sum := sha256.Sum256(data)
	s := &Snippet{Name: filepath.Base(name), Path: name, SHA256: hex.EncodeToString(sum[:])}
	file := s.Name
	var errs config.ErrorList
	if len(data) > MaxSize {
		errs.Add(config.Position{File: file}, "snippet is %d bytes, more than the limit of %d", len(data), MaxSize)
		return nil, errs
	}
	// A file saved by a Windows editor may start with a UTF-8 byte order
	// mark, which go-toml reads as a key ("invalid character ... 'ï'"); it
	// carries nothing, so it is skipped. The digest above covers it still.
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	// The shape is checked first, on the bytes and then on the syntax tree:
	// decoding a file far outside it costs more than both.
	if err := prescanTOML(file, data); err != nil {
		return nil, config.ErrorList{err}
	}
	pos, single, limit := tomlPositions(file, data)
	if limit != nil {
		return nil, config.ErrorList{limit}
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
			s.Sections = append(s.Sections, ns)
		}
	}
	for i, ed := range doc.Edit {
		if e := s.loadEdit(pos, i, ed, &errs); e != nil {
			s.Edits = append(s.Edits, e)
		}
	}
	if len(doc.Edit) == 0 && len(doc.Section) == 0 {
		errs.Add(config.Position{File: file, Line: 1}, "snippet has no [[edit]] and no [[section]]: nothing to do")
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
	var errs config.ErrorList
	var strict *toml.StrictMissingError
	var de *toml.DecodeError
	switch {
	case errors.As(err, &strict):
		byLine := pos.byLine()
		for i := range strict.Errors {
			row, col := strict.Errors[i].Position()
			key := strict.Errors[i].Key()
			errs.Add(config.Position{File: file, Line: row, Col: col}, "%s", unknownKey(tableAt(byLine[row], key)))
		}
	case errors.As(err, &de):
		row, col := de.Position()
		errs.Add(config.Position{File: file, Line: row, Col: col}, "%s", typeError(de.Error()))
	default:
		errs.Add(config.Position{File: file}, "%v", err)
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
// snippet.editDoc.Set of type []string".
// Compiled on first use, since package init runs on every shim start.
var typeErrRE = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`cannot decode TOML ([a-z ]+?) into struct field snippet\.(\w+)Doc\.(\w+) of type`)
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
func (p positions) checkKeyCase(file string, errs *config.ErrorList) {
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
				errs.Add(config.Position{File: file, Line: p[path]}, "key %q %s must be written %q", name, tableNames[table], k)
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
