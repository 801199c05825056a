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
			want := config.NewLine(got.Raw, pos)
			assert.Equal(t, want, got, "text %q, provenance %v", text, prov)
		}
		for _, words := range [][]string{
			{"server", "s1", "127.0.0.1:1", "check", "maxconn", "32"},
			{"default-server", "check", "agent-send", "a b#c", ""},
		} {
			l := config.NewLine("    "+joinWords(words)+" # serve-launch: old.toml:1\r\n", config.Position{})
			got := a.rewrite(s, l, words, pos)
			want := config.NewLine(got.Raw, pos)
			assert.Equal(t, want, got, "words %q, provenance %v", words, prov)
		}
	}
}
