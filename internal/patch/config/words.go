package config

import (
	"strings"
)

// A line keeps its words as a string of offsets into its own bytes, not as
// a []string: the shim holds every line of a config at once, with its
// garbage collector off, and at 16384 servers the 16-byte string headers
// of the words came to 2.1 MB, a seventh of its memory. The offsets take
// four bytes a word.
//
// The list has one of two forms, which Line.wideWords tells apart:
//
//   - narrow, when every word stands in the line as it is and the line is
//     shorter than 64 KiB: for each word, where it starts and ends in the
//     line, two little-endian uint16 each;
//   - wide, for any other line (a word with escapes or joined quotes, a
//     line of 64 KiB or more): the number of words, the end of each word,
//     little-endian uint32 each, then the words' bytes one after the other.
//     The words are copies, and the list holds them all.
//
// The narrow form is every line Ray writes and every line the patch
// engine writes from plain text.

// maxNarrow is the longest line whose words can be narrow.
const maxNarrow = 1<<16 - 1

// NumWords is how many words the line has; 0 for blank and comment-only
// lines, and for a line whose quotes do not close.
func (l *Line) NumWords() int {
	if l.wideWords {
		return int(le32(l.words, 0))
	}
	return len(l.words) / 4
}

// Word is the line's i-th word as HAProxy reads it (quotes removed,
// escapes resolved), for 0 <= i < NumWords(). It allocates nothing.
func (l *Line) Word(i int) string {
	if l.wideWords {
		return wideWord(l.words, i)
	}
	e := l.words[4*i:]
	_ = e[3]
	return l.Raw[int(e[1])<<8|int(e[0]) : int(e[3])<<8|int(e[2])]
}

// Keyword is the line's first word, "" for a line without words.
func (l *Line) Keyword() string {
	if l.words == "" {
		return ""
	}
	return l.Word(0)
}

// Words returns the line's words in a new slice, nil for none. Code that
// walks every line of a large config reads Word and NumWords instead,
// which allocate nothing.
func (l *Line) Words() []string {
	return l.AppendWords(nil)
}

// AppendWords appends the line's words to dst and returns the result.
func (l *Line) AppendWords(dst []string) []string {
	n := l.NumWords()
	if n == 0 {
		return dst
	}
	dst = growStrings(dst, n)
	for i := range n {
		dst = append(dst, l.Word(i))
	}
	return dst
}

// growStrings makes room in dst for n more strings, the exact room when it
// must allocate.
func growStrings(dst []string, n int) []string {
	if cap(dst)-len(dst) >= n {
		return dst
	}
	grown := make([]string, len(dst), len(dst)+n)
	copy(grown, dst)
	return grown
}

// HasWord reports whether w is one of the line's words.
func (l *Line) HasWord(w string) bool {
	for i := range l.NumWords() {
		if l.Word(i) == w {
			return true
		}
	}
	return false
}

// HasPair reports whether a and b stand next to each other, in that order,
// among the line's words ("level admin", "expose-fd listeners").
func (l *Line) HasPair(a, b string) bool {
	for i := range l.NumWords() - 1 {
		if l.Word(i) == a && l.Word(i+1) == b {
			return true
		}
	}
	return false
}

// SameWords reports whether the line's words are words. It compares from
// the last word: lines of one section that differ mostly share their first
// words (a keyword, an action), so a difference is found at once.
func (l *Line) SameWords(words []string) bool {
	if l.NumWords() != len(words) {
		return false
	}
	for i := len(words) - 1; i >= 0; i-- {
		if l.Word(i) != words[i] {
			return false
		}
	}
	return true
}

// keyWords fills kw with the line's first words, as many as a key can
// take (see keyWordsOf), and returns them.
func (l *Line) keyWords(kw *[4]string) []string {
	n := min(l.NumWords(), len(kw))
	for i := range n {
		kw[i] = l.Word(i)
	}
	return kw[:n]
}

// wideWord is word i of a wide list.
func wideWord(list string, i int) string {
	n := int(le32(list, 0))
	if i < 0 || i >= n {
		panic("config: word index out of range")
	}
	base, lo := 4+4*n, 0
	if i > 0 {
		lo = int(le32(list, 4*i))
	}
	return list[base+lo : base+int(le32(list, 4+4*i))]
}

// le32 is the little-endian uint32 at s[i:].
func le32(s string, i int) uint32 {
	_ = s[i+3]
	return uint32(s[i]) | uint32(s[i+1])<<8 | uint32(s[i+2])<<16 | uint32(s[i+3])<<24
}

func appendLE32(b []byte, v uint32) []byte {
	return append(b, byte(v), byte(v>>8), byte(v>>16), byte(v>>24))
}

// wordArena holds the encoded word lists of many lines in shared chunks,
// so that parsing a file makes one allocation per chunk rather than one
// per line. A chunk is a strings.Builder: the lists are parts of its
// string, which later writes leave as they are.
type wordArena struct {
	b     strings.Builder
	chunk int    // size of a new chunk; 0 gives each list its own allocation
	enc   []byte // the list being encoded
}

// add stores the list in a.enc and returns it.
func (a *wordArena) add() string {
	if len(a.enc) == 0 {
		return ""
	}
	if a.chunk == 0 {
		return string(a.enc)
	}
	if a.b.Cap()-a.b.Len() < len(a.enc) {
		a.b = strings.Builder{}
		a.b.Grow(max(a.chunk, len(a.enc)))
	}
	n := a.b.Len()
	a.b.Write(a.enc)
	return a.b.String()[n:]
}

// encode returns the list of the words ws found in text, and whether it is
// wide.
func (a *wordArena) encode(text string, ws *wordSpans) (string, bool) {
	a.enc = a.enc[:0]
	if len(ws.spans) == 0 {
		return "", false
	}
	if len(text) <= maxNarrow {
		narrow := true
		for _, sp := range ws.spans {
			if sp.own {
				narrow = false
				break
			}
			a.enc = append(a.enc, byte(sp.lo), byte(sp.lo>>8), byte(sp.hi), byte(sp.hi>>8))
		}
		if narrow {
			return a.add(), false
		}
	}
	a.enc = a.enc[:0]
	a.enc = appendLE32(a.enc, uint32(len(ws.spans)))
	end := 0
	for _, sp := range ws.spans {
		end += sp.hi - sp.lo
		a.enc = appendLE32(a.enc, uint32(end))
	}
	for _, sp := range ws.spans {
		if sp.own {
			a.enc = append(a.enc, ws.own[sp.lo:sp.hi]...)
		} else {
			a.enc = append(a.enc, text[sp.lo:sp.hi]...)
		}
	}
	return a.add(), true
}

// encodeFound returns the list of words, which stand in text in order
// (each a part of text, or not: then the list is wide), and whether it is
// wide, in an allocation of its own. A word's offsets may point at any
// place in text where its bytes stand: it reads back the same.
func encodeFound(text string, words []string) (string, bool) {
	if len(words) == 0 {
		return "", false
	}
	var b strings.Builder
	if len(text) <= maxNarrow {
		b.Grow(4 * len(words))
		at := 0
		for _, w := range words {
			j := strings.Index(text[at:], w)
			if j < 0 {
				break
			}
			lo, hi := at+j, at+j+len(w)
			b.Write([]byte{byte(lo), byte(lo >> 8), byte(hi), byte(hi >> 8)})
			at = hi
		}
		if b.Len() == 4*len(words) {
			return b.String(), false
		}
		b = strings.Builder{}
	}
	n := 4 + 4*len(words)
	for _, w := range words {
		n += len(w)
	}
	b.Grow(n)
	var le [4]byte
	put := func(v int) {
		le = [4]byte{byte(v), byte(v >> 8), byte(v >> 16), byte(v >> 24)}
		b.Write(le[:])
	}
	put(len(words))
	end := 0
	for _, w := range words {
		end += len(w)
		put(end)
	}
	for _, w := range words {
		b.WriteString(w)
	}
	return b.String(), true
}
