package patch

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestParseRefusesNUL: a NUL byte (a binary file given as a config) is an
// error at its position; the file still renders back unchanged.
func TestParseRefusesNUL(t *testing.T) {
	tests := []struct {
		name, data, want string
	}{
		{"text", "global\n    maxconn 10\n", ""},
		{"NUL on line 2", "global\n    maxconn 1\x000\n", "cfg:2:14: NUL byte: this is not a text haproxy config (a binary file?)"},
		{"ELF header", "\x7fELF\x02\x01\x01\x00", "cfg:1:8: NUL byte"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Parse("cfg", []byte(tt.data))
			assert.Equal(t, tt.data, string(f.Render()))
			if tt.want == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

// TestSnippetLineSpaces: a form feed or a no-break space in a line would be
// read one way by the tokenizer and another by strings.Fields, so re-applying
// added the line again (found by FuzzLoadSnippet); such lines are refused,
// from the snippet or from a template's output.
func TestSnippetLineSpaces(t *testing.T) {
	cfg := mustRead(t, "testdata/ray-2.55.cfg")
	tests := []struct {
		name, snippet, want string
	}{
		{"form feed", "[[edit]]\nsection = \"global\"\nset = [\"\\f\"]\n", `x.toml:3: line "\f" holds the control or space character U+000C: use plain spaces`},
		{"no-break space", "[[edit]]\nsection = \"global\"\nset = [\"maxconn\u00a0100\"]\n", `x.toml:3: line "maxconn\u00a0100" holds the control or space character U+00A0`},
		{"template output", "[[edit]]\nsection = \"global\"\nset = [\"maxconn {{ printf \\\"%c\\\" 11 }}\"]\n", "U+000B"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := badSnippetErr("x.toml", []byte(tt.snippet), cfg)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

// TestParamsSetAndDeleted: a params entry that sets and deletes the same
// parameter moved it to the end on every run after the first (found by
// FuzzLoadSnippet).
func TestParamsSetAndDeleted(t *testing.T) {
	snippet := "[[edit]]\nsection = \"backend *\"\nparams = [{ on = \"default-server\", set = \"inter 1s maxconn 5\", delete = [\"maxconn\"] }]\n"
	_, err := LoadSnippet("x.toml", []byte(snippet))
	require.Error(t, err)
	assert.Equal(t, `x.toml:3: params: "maxconn" is both set and deleted; give it in one of them`, err.Error())
}
