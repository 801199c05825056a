package envmap

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/hashicorp/go-envparse"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// FuzzQuoteValue checks that every value WriteEnvFile writes reads back the
// same through go-envparse.
func FuzzQuoteValue(f *testing.F) {
	for _, s := range []string{"2000", "/srv/my dir/x", "it's", "a#b", "tab\there", "new\nline", `back\slash "q"`, "é", "\u2028", "<&>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, value string) {
		if value == "" || !utf8.ValidString(value) {
			t.Skip("empty means unset; env files are text")
		}
		line := "K=" + QuoteValue(value)
		m, err := envparse.Parse(strings.NewReader(line))
		require.NoError(t, err, line)
		assert.Equal(t, value, m["K"], line)
	})
}
