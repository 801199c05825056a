package patch

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

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
