package patch

import (
	"bytes"
	"fmt"
	"strings"
)

// Tokens is one line split into words the way HAProxy's parser does it.
type Tokens struct {
	// Words are the decoded words: quotes removed, escapes resolved, ${VAR}
	// kept verbatim (it is expanded by haproxy at load time, not by us).
	Words []string
	// Comment is the text after an unquoted '#', without the '#'; HasComment
	// tells an empty comment from none.
	Comment    string
	HasComment bool
}

// tokenError is an unterminated quote, at a 1-based column.
type tokenError struct {
	col int
	msg string
}

func (e *tokenError) Error() string { return e.msg }

// Tokenize splits one line (without its line terminator) into words.
//
// It follows HAProxy's parse_line: words are separated by spaces and tabs; a
// '#' outside quotes starts a comment; outside quotes and inside double quotes a
// backslash escapes the next character (\\, \ , \#, \', \", and \r \n \t \xHH);
// inside single quotes nothing is special. Quotes may appear inside a word
// (ab"c d" is the one word "abc d"). An unterminated quote is an error whose
// column is that of the opening quote.
func Tokenize(s string) (Tokens, error) {
	return tokenizeInto(s, &wordArena{})
}

// tokenizeInto is Tokenize with the words of a plain line kept in a: Parse
// splits thousands of lines, and one allocation for all their word slices
// instead of one per line is much of its speed.
func tokenizeInto(s string, a *wordArena) (Tokens, error) {
	if t, ok := tokenizePlain(s, a); ok {
		return t, nil
	}
	var t Tokens
	// One buffer for every word of the line, each word one exact-size string.
	var word bytes.Buffer
	word.Grow(len(s))
	inWord := false
	emit := func() {
		if inWord {
			t.Words = append(t.Words, word.String())
			word.Reset()
			inWord = false
		}
	}
	begin := func(int) { inWord = true }
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			emit()
		case c == '#':
			emit()
			t.Comment = s[i+1:]
			t.HasComment = true
			return t, nil
		case c == '\\':
			begin(i)
			n := unescape(s, i, &word)
			i += n - 1
		case c == '\'':
			begin(i)
			end := strings.IndexByte(s[i+1:], '\'')
			if end < 0 {
				return t, &tokenError{col: i + 1, msg: "unterminated single quote"}
			}
			word.WriteString(s[i+1 : i+1+end])
			i += end + 1
		case c == '"':
			begin(i)
			j := i + 1
			for ; j < len(s) && s[j] != '"'; j++ {
				if s[j] == '\\' {
					n := unescape(s, j, &word)
					j += n - 1
					continue
				}
				word.WriteByte(s[j])
			}
			if j >= len(s) {
				return t, &tokenError{col: i + 1, msg: "unterminated double quote"}
			}
			i = j
		default:
			begin(i)
			word.WriteByte(c)
		}
	}
	emit()
	return t, nil
}

// tokenizePlain splits a line with no quote or backslash before its comment,
// the common case (every line Ray generates but a few): its words are
// substrings of s, in one pass. It reports false for any other line, giving
// back the words it took from a.
func tokenizePlain(s string, a *wordArena) (Tokens, bool) {
	var t Tokens
	a.mark()
	i := 0
	for i < len(s) {
		for i < len(s) && byteClass[s[i]] == classSpace {
			i++
		}
		start := i
		for i < len(s) && byteClass[s[i]] == classWord {
			i++
		}
		if i > start {
			a.push(s[start:i])
		}
		if i < len(s) {
			switch byteClass[s[i]] {
			case classComment:
				t.Comment, t.HasComment = s[i+1:], true
				t.Words = a.words()
				return t, true
			case classSpecial:
				a.drop()
				return Tokens{}, false
			}
		}
	}
	t.Words = a.words()
	return t, true
}

// isPlainWord reports whether w reads back as itself unquoted: no space,
// comment sign, quote or backslash.
func isPlainWord(w string) bool {
	for i := 0; i < len(w); i++ {
		if byteClass[w[i]] != classWord {
			return false
		}
	}
	return true
}

// Byte classes for tokenizePlain and isPlainWord.
const (
	classWord = iota
	classSpace
	classComment
	classSpecial
)

var byteClass = func() (c [256]uint8) {
	for _, b := range []byte(" \t\r\n") {
		c[b] = classSpace
	}
	c['#'] = classComment
	for _, b := range []byte(`'"\`) {
		c[b] = classSpecial
	}
	return c
}()

// wordArena collects the words of lines in shared chunks, so parsing a file
// makes one allocation per chunk rather than one per line.
type wordArena struct {
	buf   []string
	start int // where the line in progress starts in buf
	chunk int // size of a new chunk; 0 means 8, for a single line
}

// mark starts a line's words.
func (a *wordArena) mark() { a.start = len(a.buf) }

// push adds a word to the line in progress. A line that outgrows the chunk
// moves, with the words it has so far, to a new one; earlier lines keep
// theirs where they are.
func (a *wordArena) push(w string) {
	if len(a.buf) == cap(a.buf) {
		n := len(a.buf) - a.start
		nb := make([]string, n, max(a.chunk, 2*n, 8))
		copy(nb, a.buf[a.start:])
		a.buf, a.start = nb, 0
	}
	a.buf = append(a.buf, w)
}

// words returns the line's words, with a capacity that ends with them, so
// an append to them never writes into another line's words.
func (a *wordArena) words() []string {
	if len(a.buf) == a.start {
		return nil
	}
	return a.buf[a.start:len(a.buf):len(a.buf)]
}

// drop forgets the line's words.
func (a *wordArena) drop() { a.buf = a.buf[:a.start] }

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

// unescape decodes the backslash sequence at s[i] into w and returns how many
// bytes it used. An unknown escape keeps the backslash, as HAProxy does not
// reject it here and we must not lose bytes.
func unescape(s string, i int, w *bytes.Buffer) int {
	if i+1 >= len(s) {
		w.WriteByte('\\')
		return 1
	}
	switch c := s[i+1]; c {
	case '\\', ' ', '#', '\'', '"', '$':
		w.WriteByte(c)
		return 2
	case 'r':
		w.WriteByte('\r')
		return 2
	case 'n':
		w.WriteByte('\n')
		return 2
	case 't':
		w.WriteByte('\t')
		return 2
	case 'x':
		if i+3 < len(s) && isHex(s[i+2]) && isHex(s[i+3]) {
			var b byte
			fmt.Sscanf(s[i+2:i+4], "%02x", &b)
			w.WriteByte(b)
			return 4
		}
	}
	w.WriteByte('\\')
	return 1
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// Quote returns w as one HAProxy word: unchanged when it needs no quoting,
// otherwise in double quotes with the characters that are special inside them
// escaped. ${VAR} references stay expandable.
func Quote(w string) string {
	if w != "" && isPlainWord(w) {
		return w
	}
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(w); i++ {
		switch c := w[i]; c {
		case '"', '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case '\r':
			b.WriteString(`\r`)
		case '\n':
			b.WriteString(`\n`)
		case '\t':
			b.WriteString(`\t`)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}
