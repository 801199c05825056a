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
	var ws wordSpans
	comment, err := ws.tokenize(s)
	t := Tokens{Words: ws.strings(s)}
	if comment >= 0 {
		t.Comment, t.HasComment = s[comment:], true
	}
	return t, err
}

// wordSpans are the words of one line as the tokenizer finds them: places
// in the line rather than strings, which Parse encodes into the line (see
// [Line.Word]) and Tokenize turns into strings. One wordSpans serves every
// line of a Parse.
type wordSpans struct {
	spans []wordSpan
	// own holds the bytes of the words that do not stand in the line as
	// they are (escapes, joined quotes).
	own []byte
	w   wordBuilder
}

// wordSpan is one word: the line's s[lo:hi], or own[lo:hi] when own.
//
// A word is a part of the line whenever its decoded bytes stand together
// there: always for a plain word, and for a quoted one without escapes,
// such as the "success" of the http-request rules Ray writes for every
// app. Only a word that escapes or joins quoted parts is built anew.
type wordSpan struct {
	lo, hi int
	own    bool
}

// tokenize splits s into ws's words (see Tokenize) and returns where the
// comment starts in s, after its '#', or -1 for none. After an error ws
// holds the words before it.
func (ws *wordSpans) tokenize(s string) (comment int, err error) {
	ws.spans, ws.own = ws.spans[:0], ws.own[:0]
	i := 0
	for {
		for i < len(s) && byteClass[s[i]] == classSpace {
			i++
		}
		if i == len(s) {
			return -1, nil
		}
		if byteClass[s[i]] == classComment {
			return i + 1, nil
		}
		start := i
		for i < len(s) && byteClass[s[i]] == classWord {
			i++
		}
		if i == len(s) || byteClass[s[i]] != classSpecial {
			ws.spans = append(ws.spans, wordSpan{lo: start, hi: i})
			continue
		}
		end, err := ws.w.decode(s, start, i)
		if err != nil {
			return -1, err
		}
		if ws.w.own {
			n := len(ws.own)
			ws.own = append(ws.own, ws.w.buf...)
			ws.spans = append(ws.spans, wordSpan{lo: n, hi: len(ws.own), own: true})
		} else {
			ws.spans = append(ws.spans, wordSpan{lo: ws.w.lo, hi: ws.w.hi})
		}
		i = end
	}
}

// strings returns the words of s as strings: parts of s, but for words
// built anew. nil for none.
func (ws *wordSpans) strings(s string) []string {
	if len(ws.spans) == 0 {
		return nil
	}
	words := make([]string, len(ws.spans))
	for i, sp := range ws.spans {
		if sp.own {
			words[i] = string(ws.own[sp.lo:sp.hi])
		} else {
			words[i] = s[sp.lo:sp.hi]
		}
	}
	return words
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

// Byte classes for the tokenizer and isPlainWord.
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
