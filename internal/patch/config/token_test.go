package config

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTokenize(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		words   []string
		comment string
		errCol  int
	}{
		{name: "empty", in: ""},
		{name: "spaces only", in: "    "},
		{name: "words and tabs", in: "\tmaxconn \t 2000  ", words: []string{"maxconn", "2000"}},
		{name: "comment", in: "  # hello", comment: " hello"},
		{name: "inline comment", in: "mode http # why", words: []string{"mode", "http"}, comment: " why"},
		{name: "hash glued to word", in: "a#b", words: []string{"a"}, comment: "b"},
		{name: "double quotes", in: `log "127.0.0.1:514#x" local0`, words: []string{"log", "127.0.0.1:514#x", "local0"}},
		{name: "single quotes keep backslash", in: `x 'a\"b # c'`, words: []string{"x", `a\"b # c`}},
		{name: "escape in double quotes", in: `x "a\"b"`, words: []string{"x", `a"b`}},
		{name: "env var kept verbatim", in: `x "${HOME}/a" ${B}`, words: []string{"x", "${HOME}/a", "${B}"}},
		{name: "quote inside word", in: `ab"c d"e`, words: []string{"abc de"}},
		{name: "escaped space", in: `a\ b c`, words: []string{"a b", "c"}},
		{name: "escaped hash", in: `a\#b`, words: []string{"a#b"}},
		{name: "hex escape", in: `a\x41`, words: []string{"aA"}},
		{name: "control escapes", in: `"\r\n\t"`, words: []string{"\r\n\t"}},
		{name: "unknown escape keeps backslash", in: `a\qb`, words: []string{`a\qb`}},
		{name: "trailing backslash", in: `a\`, words: []string{`a\`}},
		{name: "empty quoted word", in: `a "" b`, words: []string{"a", "", "b"}},
		{name: "unterminated double", in: `log "abc`, errCol: 5},
		{name: "unterminated single", in: `  x 'abc`, errCol: 5},
		{name: "escaped quote does not close", in: `x "a\"`, errCol: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := Tokenize(tt.in)
			if tt.errCol > 0 {
				require.Error(t, err)
				var te *tokenError
				require.ErrorAs(t, err, &te)
				assert.Equal(t, tt.errCol, te.col)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.words, tok.Words)
			assert.Equal(t, tt.comment, tok.Comment)
		})
	}
}

func TestQuoteRoundTrip(t *testing.T) {
	for _, w := range []string{"plain", "", "a b", "a#b", `a"b`, `a\b`, "tab\there", "${VAR} x", "it's"} {
		tok, err := Tokenize("k " + Quote(w))
		require.NoError(t, err, w)
		require.Len(t, tok.Words, 2, w)
		assert.Equal(t, w, tok.Words[1])
	}
}

func TestKey(t *testing.T) {
	tests := []struct {
		line string
		key  string
		list bool
	}{
		{"timeout connect 5s", "timeout connect", false},
		{"timeout http-request 30s", "timeout http-request", false},
		{"option redispatch", "option redispatch", false},
		{"no option redispatch", "option redispatch", false},
		{"option httpchk GET /health", "option httpchk", false},
		{"errorfile 502 /tmp/500.http", "errorfile 502", false},
		{"stats socket /tmp/a.sock mode 666 level admin", "stats socket /tmp/a.sock", false},
		{"stats refresh 1s", "stats refresh", false},
		{"stats timeout 30s", "stats timeout", false},
		{"acl is_x path /x", "acl is_x", false},
		{"server s1 127.0.0.1:1 check", "server s1", false},
		{"server-template srv 10 127.0.0.1:1", "server-template srv", false},
		{"bind *:8404", "bind *:8404", false},
		{"tune.bufsize 16384", "tune.bufsize", false},
		{"tune.h2.fe.initial-window-size 65535", "tune.h2.fe.initial-window-size", false},
		{"maxconn 2000", "maxconn", false},
		{"balance leastconn", "balance", false},
		{"default-server check inter 5s", "default-server", false},
		{"http-request deny", "http-request", true},
		{"http-response set-header a b", "http-response", true},
		{"tcp-request content accept", "tcp-request", true},
		{"use_backend b if x", "use_backend", true},
		{"use-server s if x", "use-server", true},
		{"log global", "log", true},
		{"http-check expect status 200", "http-check", true},
		{"stats http-request deny", "stats http-request", true},
		{"no log", "log", true},
		{"", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			tok, err := Tokenize(tt.line)
			require.NoError(t, err)
			assert.Equal(t, tt.key, Key(tok.Words))
			assert.Equal(t, tt.list, IsListKey(tt.key))
		})
	}
}

func TestRepeatedACLIsList(t *testing.T) {
	f, err := Parse("x.cfg", []byte("frontend f\n    acl a path /x\n    acl a path /y\n    acl b path /z\n"))
	require.NoError(t, err)
	s := f.Sections[0]
	assert.True(t, s.IsList(s.Body[0]))
	assert.False(t, s.IsList(s.Body[2]))
}
