package config

import (
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fastPathLines exercise the shortcuts Parse takes for speed: keys sliced
// out of the line, words kept in a shared arena, and the fallback to the
// full tokenizer.
var fastPathLines = []string{
	"",
	"   ",
	"global",
	"    timeout connect 5s",
	"    timeout   connect 5s",
	"\ttimeout\tconnect 5s",
	"    no option httplog",
	"    no  option httplog",
	"    option",
	"    stats socket /run/admin.sock mode 660 level admin",
	"    stats   socket /run/admin.sock",
	"    server s1 127.0.0.1:8000 check # comment 'with' \"quotes\"",
	"    server s1 127.0.0.1:8000 check#tight",
	"    http-request return status 200 string \"ok\" if h",
	"    acl a path_beg /x\\ y",
	"    timeoutconnect timeout connect",
	"    option option option",
	"    # only a comment",
	"    bind :8080 # serve-launch: 10-x.toml:3",
	strings.Repeat("w ", 600),
}

func TestKeyInMatchesKey(t *testing.T) {
	for _, line := range fastPathLines {
		tok, err := Tokenize(line)
		if err != nil {
			continue
		}
		assert.Equal(t, Key(tok.Words), KeyIn(line, tok.Words), "line %q", line)
	}
}

func TestLineWordsMatchTokenize(t *testing.T) {
	// A small chunk makes lists outgrow it; the long lines and the escape
	// take the wide form.
	lines := append(slices.Clone(fastPathLines),
		"    acl big src "+strings.Repeat("10.0.0.1 ", 8000),
		"    acl big src "+strings.Repeat("10.0.0.1 ", 8000)+`a\ b "c"'d' # c`,
		`x "a\"b" 'c' "" d`)
	r := lineReader{words: wordArena{chunk: 7}}
	got := make([]Line, len(lines))
	for i, line := range lines {
		got[i].init(line, Position{Line: i + 1}, &r)
	}
	for i, line := range lines {
		want, err := Tokenize(line)
		require.NoError(t, err)
		l := &got[i]
		assert.Equal(t, want.Words, l.Words(), "line %q", line)
		assert.Equal(t, len(want.Words), l.NumWords(), "line %q", line)
		assert.Equal(t, want.Comment, l.Comment(), "line %q", line)
		assert.Equal(t, len(want.Words) > 0, l.IsDirective(), "line %q", line)
		assert.Equal(t, len(line) > maxNarrow || strings.Contains(line, `\`), l.wideWords, "line %q", line)
		if len(want.Words) > 0 {
			assert.Equal(t, want.Words[0], l.Keyword(), "line %q", line)
			assert.True(t, l.SameWords(want.Words), "line %q", line)
			assert.False(t, l.SameWords(want.Words[1:]), "line %q", line)
			assert.True(t, l.HasWord(want.Words[len(want.Words)-1]), "line %q", line)
		}
		assert.False(t, l.HasWord("no such word"), "line %q", line)
		if n := len(want.Words); n >= 2 {
			assert.True(t, l.HasPair(want.Words[n-2], want.Words[n-1]), "line %q", line)
		}
		assert.False(t, l.HasPair("no such", "pair"), "line %q", line)
	}
}

// TestSetParsedMatchesInit: a line given its words reads them back as a
// line that tokenized them, whether they stand in its text or not.
func TestSetParsedMatchesInit(t *testing.T) {
	for _, raw := range []string{
		"", "    # c\n", "    timeout connect 5s\n", "    timeout connect 5s # serve-launch: a.toml:3\n",
		`    http-request return lf-string "a b" if x` + "\r\n", `    acl a path_beg /x\ y` + "\n",
		`x "a\"b" 'c' "" d`, "    acl big src " + strings.Repeat("10.0.0.1 ", 8000) + "\n",
	} {
		want := NewLine(raw, Position{Line: 1})
		commentAt := -1
		if want.comment >= 0 {
			commentAt = int(want.comment)
		}
		var got Line
		got.SetParsed(raw, Position{Line: 1}, want.Words(), commentAt)
		assert.Equal(t, want.Words(), got.Words(), "line %q", raw)
		assert.Equal(t, want.Key(), got.Key(), "line %q", raw)
		assert.Equal(t, want.Comment(), got.Comment(), "line %q", raw)
		assert.Equal(t, want.IsDirective(), got.IsDirective(), "line %q", raw)
	}
}

func TestParseKeysMatchKey(t *testing.T) {
	f, err := Parse("x.cfg", []byte(strings.Join(fastPathLines, "\n")))
	require.NoError(t, err)
	f.eachLine(func(l *Line) {
		assert.Equal(t, Key(l.Words()), l.Key(), "line %q", l.Raw)
	})
}

// TestParseMatchesLineByLine parses a large config, with quoted lines, a
// bad quote, CRLF and a last line without a terminator, and checks every
// line against NewLine on its own: the shared slices Parse uses change
// nothing.
func TestParseMatchesLineByLine(t *testing.T) {
	big := string(bigConfig(64, 40))
	half := len(big) / 2
	cut := half + strings.IndexByte(big[half:], '\n') + 1
	withOddLines := big[:cut] + "    http-request return status 200 string \"ok ok\" if h\r\n" +
		"    acl bad path 'unterminated\n" + big[cut:] + "    # no final newline"
	for name, text := range map[string]string{"plain": big, "odd lines": withOddLines} {
		t.Run(name, func(t *testing.T) {
			f, err := Parse("big.cfg", []byte(text))
			if name == "plain" {
				require.NoError(t, err)
			} else {
				require.ErrorContains(t, err, "unterminated single quote")
			}
			assert.Equal(t, text, string(f.Render()))
			num := 0
			f.eachLine(func(l *Line) {
				num++
				want := NewLine(l.Raw, Position{File: "big.cfg", Line: num})
				assert.Equal(t, want.Pos, l.Pos, "line %d", num)
				assert.Equal(t, want.Words(), l.Words(), "line %d", num)
				assert.Equal(t, want.NumWords(), l.NumWords(), "line %d", num)
				assert.Equal(t, want.Comment(), l.Comment(), "line %d", num)
				assert.Equal(t, want.Key(), l.Key(), "line %d", num)
				assert.Equal(t, want.Err(), l.Err(), "line %d", num)
			})
			assert.Equal(t, strings.Count(text, "\n")+1-boolInt(strings.HasSuffix(text, "\n")), num)
		})
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestServerCount(t *testing.T) {
	cfg := `frontend f
    server not-counted 127.0.0.1:1
backend a
    server s1 127.0.0.1:1 check
    server s2 127.0.0.1:2 check
    server spare 127.0.0.1:9 check backup
    server-template t 1-3 127.0.0.1:3 check
backend b
    server s1 127.0.0.1:1 check
    server s3 127.0.0.1:3
    server-template t 2 127.0.0.1:4
listen l
    server l1 127.0.0.1:5
    server-template u 5 127.0.0.1:6 backup
`
	f, err := Parse("x.cfg", []byte(cfg))
	require.NoError(t, err)
	// s1 s2 s3 t1 t2 t3 l1: s1 and t1/t2 are named twice, spare and u are backups.
	assert.Equal(t, 7, ServerCount(f.Sections))
	assert.Equal(t, 5, ServerCount(f.Sections[1:2]))
	assert.Equal(t, 0, ServerCount(nil))

	// A big file counts as the map it replaced would.
	big, err := Parse("big.cfg", bigConfig(100, 30))
	require.NoError(t, err)
	assert.Equal(t, 3000, ServerCount(big.Sections))
}
