package patch

import (
	"testing"

	"github.com/serve-launch/serve-launch/internal/patch/config"
	"github.com/stretchr/testify/assert"
)

// TestNewLineOfMatchesNewLine holds the lines the engine builds from known
// words (set texts, rewritten server lines) to what tokenizing them gives.
func TestNewLineOfMatchesNewLine(t *testing.T) {
	texts := []string{
		"timeout queue 60s",
		"  option httpchk GET /health  ",
		"maxconnrate 2560",
		"http-request return status 200 string \"ok # not a comment\" if h",
		"acl x path_beg /a\\ b",
		"retries 1 # a comment of the user's",
		"bind 'unterminated",
		"stats socket /run/a.sock level admin",
	}
	for _, prov := range []bool{true, false} {
		a := &applier{opt: ApplyOptions{NoProvenance: !prov}}
		s := &config.Section{Header: config.NewLine("backend b\r\n", config.Position{})}
		pos := config.Position{File: "40-backends.toml", Line: 7}
		for _, text := range texts {
			got := a.newLine(s, "    ", text, pos)
			assertSameLine(t, config.NewLine(got.Raw, pos), got, "text %q, provenance %v", text, prov)
		}
		for _, words := range [][]string{
			{"server", "s1", "127.0.0.1:1", "check", "maxconn", "32"},
			{"default-server", "check", "agent-send", "a b#c", ""},
		} {
			l := config.NewLine("    "+joinWords(words)+" # serve-launch: old.toml:1\r\n", config.Position{})
			got := a.rewrite(s, l, words, pos)
			assertSameLine(t, config.NewLine(got.Raw, pos), got, "words %q, provenance %v", words, prov)
		}
	}
}

// assertSameLine checks that got reads as want does. Their word lists may
// differ as bytes: a word may be found at any place of the line that
// holds it.
func assertSameLine(t *testing.T, want, got *config.Line, msgAndArgs ...any) {
	t.Helper()
	assert.Equal(t, want.Raw, got.Raw, msgAndArgs...)
	assert.Equal(t, want.Pos, got.Pos, msgAndArgs...)
	assert.Equal(t, want.Words(), got.Words(), msgAndArgs...)
	assert.Equal(t, want.Key(), got.Key(), msgAndArgs...)
	assert.Equal(t, want.Comment(), got.Comment(), msgAndArgs...)
	assert.Equal(t, want.Err(), got.Err(), msgAndArgs...)
}
