package snippet

import (
	"sort"
	"strconv"
	"strings"

	"github.com/pelletier/go-toml/v2/unstable"
	"github.com/serve-launch/serve-launch/internal/patch/config"
)

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
	single config.ErrorList
	tables int
	values int
	// limit is the first bound of the snippet's shape the file passes.
	limit *config.Error
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
		sc.limit = config.Errorf(config.Position{File: sc.file, Line: max(line, 1)}, format, args...)
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
func tomlPositions(file string, data []byte) (pos positions, single config.ErrorList, limit *config.Error) {
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
				sc.single.Add(config.Position{File: file, Line: l}, "[%s] is a single table; snippets take arrays of tables: write [[%s]]", name, name)
			}
			sc.pos[path] = l
			prefix = path + "."
		}
	}
	return sc.pos, sc.single, sc.limit
}

// at returns the position of a TOML path, falling back to its parents.
func (p positions) at(file, path string) config.Position {
	for {
		if l, ok := p[path]; ok && l > 0 {
			return config.Position{File: file, Line: l}
		}
		i := strings.LastIndexByte(path, '.')
		if i < 0 {
			return config.Position{File: file}
		}
		path = path[:i]
	}
}
