package snippet

import "github.com/serve-launch/serve-launch/internal/patch/config"

// The TOML parser builds a node for every part of a dotted key and every
// element of an array before tomlPositions can count them: a 1 MB key of
// half a million parts makes as many nodes. prescanTOML bounds those counts on
// the bytes, before any parser runs, in one pass and no allocation. It
// knows just enough TOML to skip comments and strings, and counts the
// characters that separate key parts ('.'), list entries (','), keys
// ('='), tables and nesting ('[', '{'). Each bound is a multiple of the
// exact one tomlPositions checks afterwards, so that a file the walk would
// take never trips it.
const (
	// prescanDots bounds the dots outside strings on one line: a dotted key
	// (a.b.c) is on one line, and a snippet's keys have few parts.
	prescanDots = 4 * maxKeyParts
	// prescanSeparators bounds the commas and equals signs of the file:
	// every key has one '=', every list entry but the last one ','.
	prescanSeparators = 2 * maxValues
	// prescanTables bounds the '[' that open a line (table headers) and the
	// '{' that open inline tables.
	prescanTables = 2 * maxTables
	// prescanNesting bounds how deep '[' and '{' nest; a [[header]] adds 2.
	prescanNesting = maxNesting + 2
)

// prescanTOML refuses data whose dotted keys, lists, tables or nesting
// exceed what any snippet needs, with the line where it does; nil when the
// file is for the parser to read (it may still be no TOML at all).
func prescanTOML(file string, data []byte) *config.Error {
	line, dots, seps, tables, depth := 1, 0, 0, 0, 0
	lineStart := true // only spaces so far on this line
	at := func(format string, args ...any) *config.Error {
		return config.Errorf(config.Position{File: file, Line: line}, format, args...)
	}
	for i := 0; i < len(data); i++ {
		c := data[i]
		switch c {
		case '\n':
			line++
			dots = 0
			lineStart = true
			continue
		case ' ', '\t', '\r':
			continue
		case '#':
			for i+1 < len(data) && data[i+1] != '\n' {
				i++
			}
			continue
		case '"', '\'':
			i = skipString(data, i, &line)
		case '.':
			if dots++; dots > prescanDots {
				return at("key is longer than any snippet key (more than %d parts)", maxKeyParts)
			}
		case ',', '=':
			if seps++; seps > prescanSeparators {
				return at("snippet has more than %d keys and list entries; split it into several files", maxValues)
			}
		case '[', '{':
			if c == '{' || lineStart {
				if tables++; tables > prescanTables {
					return at("snippet has more than %d tables; split it into several files", maxTables)
				}
			}
			if depth++; depth > prescanNesting {
				return at("lists and tables nest more than %d deep", maxNesting)
			}
		case ']', '}':
			depth = max(depth-1, 0)
		}
		lineStart = false
	}
	return nil
}

// skipString returns the index of the last byte of the string that starts
// at data[i] (a quote), counting the lines a multi-line string spans. A
// string left open ends at the end of its line, or of the file: the parser
// names the error.
func skipString(data []byte, i int, line *int) int {
	q := data[i]
	multi := i+2 < len(data) && data[i+1] == q && data[i+2] == q
	if multi {
		i += 2
	}
	for j := i + 1; j < len(data); j++ {
		switch data[j] {
		case '\\':
			if q == '"' {
				if j+1 < len(data) && data[j+1] == '\n' {
					*line++
				}
				j++ // an escaped character, in basic strings only
			}
		case '\n':
			if !multi {
				return j - 1 // unterminated: the newline is the scanner's
			}
			*line++
		case q:
			if !multi {
				return j
			}
			if j+2 < len(data) && data[j+1] == q && data[j+2] == q {
				// Up to two more quotes may belong to the string: """a"""".
				j += 2
				for k := 0; k < 2 && j+1 < len(data) && data[j+1] == q; k++ {
					j++
				}
				return j
			}
		}
	}
	return len(data) - 1
}
