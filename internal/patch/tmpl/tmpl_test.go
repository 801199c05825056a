package tmpl

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestPrintfBound: the bound printf charges is never below what Sprintf
// prints, so a value is refused before it is built, never after.
func TestPrintfBound(t *testing.T) {
	tests := []struct {
		name   string
		format string
		args   []any
	}{
		{"plain", "maxconn %d", []any{5}},
		{"width", "%08d|%-20s|%x", []any{5, "ab", "\xff\xfe"}},
		{"quote escapes", "%q %+q %x % x %X", []any{"\x00\x01\xff", "é€😀", "abc", "abc", "abc"}},
		{"star width", "%*d", []any{300, 1}},
		{"indexed", "%[2]s %[1]s %[2]s", []any{"aaaa", "bbbbbbbb"}},
		{"missing", "%d %d %d", []any{1}},
		{"extra", "%d", []any{1, "extra", 3.5}},
		{"float", "%f %e %g", []any{1e300, 1e-300, 1.5}},
		{"precision", "%.300f %10.5s", []any{1.0, "abcdefgh"}},
		{"percent", "100%% %v", []any{true}},
		{"trailing percent", "abc%", []any{}},
		{"context", "%v %+v", []any{Context{Servers: 3, Section: SectionContext{Kind: "backend", Name: "app"}}, SectionContext{Name: "x"}}},
		{"complex", "%v", []any{complex(1e300, 1e300)}},
		{"binary", "%b %o %#x %U %c", []any{-9223372036854775807, 1 << 40, 255, 0x1F600, 0x1F600}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := len(fmt.Sprintf(tt.format, tt.args...))
			assert.LessOrEqual(t, got, printfBound(tt.format, tt.args), "%q", fmt.Sprintf(tt.format, tt.args...))
			assert.LessOrEqual(t, len(fmt.Sprint(tt.args...)), printBound(tt.args))
			assert.LessOrEqual(t, len(fmt.Sprintln(tt.args...)), printBound(tt.args))
		})
	}
}
