package config

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// tokenizeReference is the tokenizer as first written, one byte at a time
// into a buffer: slow, but plainly HAProxy's parse_line. FuzzTokenize holds
// the faster tokenizer to it.
func tokenizeReference(s string) (Tokens, error) {
	var t Tokens
	var word bytes.Buffer
	inWord := false
	emit := func() {
		if inWord {
			t.Words = append(t.Words, word.String())
			word.Reset()
			inWord = false
		}
	}
	unescape := func(s string, i int) int {
		if i+1 >= len(s) {
			word.WriteByte('\\')
			return 1
		}
		switch c := s[i+1]; c {
		case '\\', ' ', '#', '\'', '"', '$':
			word.WriteByte(c)
			return 2
		case 'r':
			word.WriteByte('\r')
			return 2
		case 'n':
			word.WriteByte('\n')
			return 2
		case 't':
			word.WriteByte('\t')
			return 2
		case 'x':
			if i+3 < len(s) && isHex(s[i+2]) && isHex(s[i+3]) {
				var b byte
				fmt.Sscanf(s[i+2:i+4], "%02x", &b)
				word.WriteByte(b)
				return 4
			}
		}
		word.WriteByte('\\')
		return 1
	}
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
			inWord = true
			i += unescape(s, i) - 1
		case c == '\'':
			inWord = true
			end := strings.IndexByte(s[i+1:], '\'')
			if end < 0 {
				return t, &tokenError{col: i + 1, msg: "unterminated single quote"}
			}
			word.WriteString(s[i+1 : i+1+end])
			i += end + 1
		case c == '"':
			inWord = true
			j := i + 1
			for ; j < len(s) && s[j] != '"'; j++ {
				if s[j] == '\\' {
					j += unescape(s, j) - 1
					continue
				}
				word.WriteByte(s[j])
			}
			if j >= len(s) {
				return t, &tokenError{col: i + 1, msg: "unterminated double quote"}
			}
			i = j
		default:
			inWord = true
			word.WriteByte(c)
		}
	}
	emit()
	return t, nil
}

func FuzzTokenize(f *testing.F) {
	for _, s := range fastPathLines {
		f.Add(s)
	}
	for _, s := range []string{
		`ab"c d"e`, `a\ b c`, `a\x41\x4`, `"\r\n\t" x`, `a\`, `a "" b`, `log "abc`, `  x 'abc`,
		`x "a\"`, `x "a\\" 'b\' "c\x2"d`, `"a"'b'c`, `"a""b"`, `''x`, `"ok" # c "d`, `\#a#b`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, wantErr := tokenizeReference(s)
		got, err := Tokenize(s)
		if fmt.Sprint(err) != fmt.Sprint(wantErr) {
			t.Fatalf("%q: error %v, want %v", s, err, wantErr)
		}
		if te, ok := err.(*tokenError); ok && te.col != wantErr.(*tokenError).col {
			t.Fatalf("%q: error at column %d, want %d", s, te.col, wantErr.(*tokenError).col)
		}
		if fmt.Sprintf("%q", got.Words) != fmt.Sprintf("%q", want.Words) || got.Comment != want.Comment || got.HasComment != want.HasComment {
			t.Fatalf("%q: got %q #%q (%v), want %q #%q (%v)", s, got.Words, got.Comment, got.HasComment, want.Words, want.Comment, want.HasComment)
		}
		if err != nil || strings.ContainsAny(s, "\r\n") {
			return
		}
		// A line keeps its words encoded, in an arena shared with the
		// lines before it (here one that is full at once).
		r := lineReader{words: wordArena{chunk: 3}}
		var before, l Line
		before.init("x y z\n", Position{}, &r)
		l.init(s+"\n", Position{}, &r)
		if words := l.Words(); fmt.Sprintf("%q", words) != fmt.Sprintf("%q", want.Words) || l.Comment() != want.Comment {
			t.Fatalf("%q: the line has %q #%q, want %q #%q", s, words, l.Comment(), want.Words, want.Comment)
		}
		if w := before.Words(); !slices.Equal(w, []string{"x", "y", "z"}) {
			t.Fatalf("%q: the line before has %q", s, w)
		}
	})
}
