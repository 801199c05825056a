package envmap

import (
	"flag"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite the generated README table")

const (
	readmePath  = "../../README.md"
	beginMarker = "<!-- envmap:begin -->\n"
	endMarker   = "<!-- envmap:end -->"
)

// TestREADME fails when the README's variable table is not what [Markdown]
// generates; run `go test ./internal/envmap -update` to rewrite it.
func TestREADME(t *testing.T) {
	data, err := os.ReadFile(readmePath)
	require.NoError(t, err)
	readme := string(data)
	before, rest, ok := strings.Cut(readme, beginMarker)
	require.True(t, ok, "README.md lacks %q", beginMarker)
	current, after, ok := strings.Cut(rest, endMarker)
	require.True(t, ok, "README.md lacks %q after the begin marker", endMarker)

	want := Markdown()
	if *update {
		if current != want {
			out := before + beginMarker + want + endMarker + after
			require.NoError(t, os.WriteFile(readmePath, []byte(out), 0o644))
		}
		return
	}
	assert.Equal(t, want, current, "README.md is stale: run go test ./internal/envmap -update")
}
