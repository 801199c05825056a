package patch

import (
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
	if !strings.ContainsAny(s, `'"\\`) {
		return tokenizePlain(s), nil
	}
	var t Tokens
	var word strings.Builder
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

// tokenizePlain splits a line without quotes or backslashes, the common case
// (every line Ray generates but a few): its words are substrings of s, so it
// allocates only the slices.
func tokenizePlain(s string) Tokens {
	var t Tokens
	if c := strings.IndexByte(s, '#'); c >= 0 {
		t.Comment, t.HasComment = s[c+1:], true
		s = s[:c]
	}
	n := 0
	for i := 0; i < len(s); {
		for i < len(s) && isSpace(s[i]) {
			i++
		}
		if i < len(s) {
			n++
		}
		for i < len(s) && !isSpace(s[i]) {
			i++
		}
	}
	if n == 0 {
		return t
	}
	t.Words = make([]string, 0, n)
	for i := 0; i < len(s); {
		for i < len(s) && isSpace(s[i]) {
			i++
		}
		start := i
		for i < len(s) && !isSpace(s[i]) {
			i++
		}
		if i > start {
			t.Words = append(t.Words, s[start:i])
		}
	}
	return t
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

// unescape decodes the backslash sequence at s[i] into w and returns how many
// bytes it used. An unknown escape keeps the backslash, as HAProxy does not
// reject it here and we must not lose bytes.
func unescape(s string, i int, w *strings.Builder) int {
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
	if w != "" && !strings.ContainsAny(w, " \t\r\n#'\"\\") {
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
