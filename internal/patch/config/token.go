package config

import (
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

// The tokenizer's errors.
const (
	msgSingleQuote = "unterminated single quote"
	msgDoubleQuote = "unterminated double quote"
)

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

// tokenizeInto is Tokenize with the words of the line kept in a: Parse
// splits thousands of lines, and one allocation for all their word slices
// instead of one per line is much of its speed.
//
// A word is a substring of s whenever its decoded bytes stand together in
// s: always for a plain word, and for a quoted one without escapes, such as
// the "success" of the http-request rules Ray writes for every app. Only a
// word that escapes or joins quoted parts is built anew.
func tokenizeInto(s string, a *wordArena) (Tokens, error) {
	var t Tokens
	var w wordBuilder
	a.mark()
	i := 0
	for {
		for i < len(s) && byteClass[s[i]] == classSpace {
			i++
		}
		if i == len(s) {
			break
		}
		if byteClass[s[i]] == classComment {
			t.Comment, t.HasComment = s[i+1:], true
			break
		}
		start := i
		for i < len(s) && byteClass[s[i]] == classWord {
			i++
		}
		if i == len(s) || byteClass[s[i]] != classSpecial {
			a.push(s[start:i])
			continue
		}
		end, err := w.decode(s, start, i)
		if err != nil {
			t.Words = a.words()
			return t, err
		}
		a.push(w.string(s))
		i = end
	}
	t.Words = a.words()
	return t, nil
}

// wordBuilder decodes one word with quotes or escapes. While the decoded
// bytes are one run of s, it only keeps where that run is; buf holds them
// once they are not.
type wordBuilder struct {
	lo, hi int // the word is s[lo:hi] while !own
	own    bool
	buf    []byte // reused for every built word of a line
}

// decode reads the word that starts at s[start] and has its first quote or
// backslash at s[i], and returns the index just after it. It follows
// HAProxy's parse_line: outside quotes and inside double quotes a backslash
// escapes the next byte; inside single quotes nothing is special; quotes
// may open and close anywhere in a word.
func (w *wordBuilder) decode(s string, start, i int) (int, error) {
	w.lo, w.hi, w.own = start, i, false
	for i < len(s) {
		switch byteClass[s[i]] {
		case classSpace, classComment:
			return i, nil
		case classWord:
			j := i + 1
			for j < len(s) && byteClass[s[j]] == classWord {
				j++
			}
			w.take(s, i, j)
			i = j
			continue
		}
		switch s[i] {
		case '\\':
			i += w.unescape(s, i)
		case '\'':
			end := strings.IndexByte(s[i+1:], '\'')
			if end < 0 {
				return 0, &tokenError{col: i + 1, msg: msgSingleQuote}
			}
			w.take(s, i+1, i+1+end)
			i += end + 2
		case '"':
			j := i + 1
			for j < len(s) && s[j] != '"' {
				if s[j] == '\\' {
					j += w.unescape(s, j)
					continue
				}
				k := j + 1
				for k < len(s) && s[k] != '"' && s[k] != '\\' {
					k++
				}
				w.take(s, j, k)
				j = k
			}
			if j >= len(s) {
				return 0, &tokenError{col: i + 1, msg: msgDoubleQuote}
			}
			i = j + 1
		}
	}
	return i, nil
}

// take adds s[p:q] to the word.
func (w *wordBuilder) take(s string, p, q int) {
	switch {
	case p == q:
	case w.own:
		w.buf = append(w.buf, s[p:q]...)
	case w.lo == w.hi:
		w.lo, w.hi = p, q
	case w.hi == p:
		w.hi = q
	default:
		w.buf = append(append(w.buf[:0], s[w.lo:w.hi]...), s[p:q]...)
		w.own = true
	}
}

// add adds a byte that does not stand in s as it is (a decoded escape).
func (w *wordBuilder) add(s string, c byte) {
	if !w.own {
		w.buf = append(w.buf[:0], s[w.lo:w.hi]...)
		w.own = true
	}
	w.buf = append(w.buf, c)
}

// string is the decoded word.
func (w *wordBuilder) string(s string) string {
	if w.own {
		return string(w.buf)
	}
	return s[w.lo:w.hi]
}

// unescape decodes the backslash sequence at s[i] into the word and returns
// how many bytes it used. An unknown escape keeps the backslash, as HAProxy
// does not reject it here and we must not lose bytes.
func (w *wordBuilder) unescape(s string, i int) int {
	if i+1 >= len(s) {
		w.take(s, i, i+1)
		return 1
	}
	switch c := s[i+1]; c {
	case '\\', ' ', '#', '\'', '"', '$':
		w.take(s, i+1, i+2)
		return 2
	case 'r':
		w.add(s, '\r')
		return 2
	case 'n':
		w.add(s, '\n')
		return 2
	case 't':
		w.add(s, '\t')
		return 2
	case 'x':
		if i+3 < len(s) && isHex(s[i+2]) && isHex(s[i+3]) {
			w.add(s, unhex(s[i+2])<<4|unhex(s[i+3]))
			return 4
		}
	}
	w.take(s, i, i+1)
	return 1
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

// Byte classes for tokenizeInto and isPlainWord.
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

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// unhex is the value of a hex digit.
func unhex(c byte) byte {
	switch {
	case c >= 'a':
		return c - 'a' + 10
	case c >= 'A':
		return c - 'A' + 10
	}
	return c - '0'
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
