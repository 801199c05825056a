package snippet

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestStarGlobMatchesRegexp checks the regexp-free matcher of globs whose
// only wildcard is '*' against the regexp translation every glob once used.
func TestStarGlobMatchesRegexp(t *testing.T) {
	patterns := []string{"", "*", "**", "backend", "http-*", "*-app", "*app*", "a*b*c", "a*a", "*.*", "x**y", "grpc*_*"}
	inputs := []string{"", "a", "aa", "aba", "abc", "a-b-c", "backend", "http-app1", "http-", "grpc-app",
		"my-app", "app", "xapp", "a.b", ".", "xy", "x-y", "xyy", "grpc_a_b", "grpc", "aXbYc", "acb"}
	for _, p := range patterns {
		g, err := compileGlob(p)
		require.NoError(t, err)
		require.Nil(t, g.re, "pattern %q should not need a regexp", p)
		re, err := globRegexp(p)
		require.NoError(t, err)
		for _, s := range inputs {
			assert.Equal(t, re.MatchString(s), g.Match(s), "glob %q on %q", p, s)
		}
	}
}

func TestGlobClasses(t *testing.T) {
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{"app?", "app1", true},
		{"app?", "app12", false},
		{"app[12]", "app2", true},
		{"app[!12]", "app2", false},
		{`a\*`, "a*", true},
		{`a\*`, "ab", false},
	}
	for _, tt := range tests {
		g, err := compileGlob(tt.pattern)
		require.NoError(t, err)
		assert.Equal(t, tt.want, g.Match(tt.s), "glob %q on %q", tt.pattern, tt.s)
	}
	_, err := compileGlob("app[1")
	assert.ErrorContains(t, err, "'[' without ']'")
}
