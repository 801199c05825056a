package snippet

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSnippetShapeBounds: a snippet far outside the shape of a real one
// (huge dotted keys, tens of thousands of tables or entries, deep nesting)
// is refused with the line where it passes the bound, before it is decoded;
// what only looks like it inside strings and comments is not counted.
func TestSnippetShapeBounds(t *testing.T) {
	repeat := func(format string, n int) string {
		var b strings.Builder
		for i := range n {
			fmt.Fprintf(&b, format, i)
		}
		return b.String()
	}
	tests := []struct {
		name string
		data string
		want string // "" for a snippet that loads
	}{
		{name: "key of 100,000 parts", data: "[" + strings.TrimSuffix(strings.Repeat("a.", 100000), ".") + "]\n",
			want: "x.toml:1: key is longer than any snippet key (more than 8 parts)"},
		{name: "dotted key of 9 parts", data: "[[edit]]\nsection = \"global\"\nset = [\"maxconn 1\"]\na.b.c.d.e.f.g.h.i = 1\n",
			want: "x.toml:4: key is longer than any snippet key (more than 8 parts or 256 bytes)"},
		{name: "long quoted key", data: "[[edit]]\nsection = \"global\"\nset = [\"maxconn 1\"]\n\"" + strings.Repeat("k", 300) + "\" = 1\n",
			want: "x.toml:4: key is longer than any snippet key (more than 8 parts or 256 bytes)"},
		{name: "13,445 edits", data: repeat("[[edit]]\nsection = \"backend *\"\nadd = [\"http-request set-header X-%d 1\"]\n", 13445),
			want: "x.toml:3073: snippet has more than 512 tables; split it into several files"},
		{name: "513 edits", data: repeat("[[edit]]\nsection = \"backend *\"\nadd = [\"http-request set-header X-%d 1\"]\n", 513),
			want: "x.toml:1537: snippet has more than 512 tables; split it into several files"},
		{name: "512 edits", data: repeat("[[edit]]\nsection = \"backend *\"\nadd = [\"http-request set-header X-%d 1\"]\n", 512)},
		{name: "2049 lines", data: "[[edit]]\nsection = \"backend *\"\nadd = [\n" + repeat("\"http-request set-header X-%d 1\",\n", 2049) + "]\n",
			want: "x.toml:2050: snippet has more than 2048 keys and list entries; split it into several files"},
		{name: "2000 lines", data: "[[edit]]\nsection = \"backend *\"\nadd = [\n" + repeat("\"http-request set-header X-%d 1\",\n", 2000) + "]\n"},
		{name: "a million entries on one line", data: "set = [" + strings.Repeat("1,", 500000) + "]\n",
			want: "x.toml:1: snippet has more than 2048 keys and list entries"},
		{name: "inline tables", data: "[[edit]]\nsection = \"frontend *\"\ninsert = [\n" + repeat("{ after = \"bind *\", lines = [\"# %d\"] },\n", 600) + "]\n",
			want: "x.toml:515: snippet has more than 512 tables"},
		{name: "nesting", data: "[[edit]]\nsection = \"global\"\nset = [[[[[[[[[[\"x\"]]]]]]]]]]\n",
			want: "x.toml:3: lists and tables nest more than 8 deep"},
		{name: "nesting 10,000 deep", data: "set = " + strings.Repeat("[", 10000) + strings.Repeat("]", 10000) + "\n",
			want: "x.toml:1: lists and tables nest more than 8 deep"},
		{name: "dots, commas and brackets in strings and comments",
			data: "# a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r.s.t.u.v.w.x.y.z.a.b.c.d.e.f.g.h.i,[[[[[[[[[[[[[{{{{\n" +
				"[[edit]]\nsection = \"global\"\nset = [\"log-tag " + strings.Repeat(".,=[{", 3000) + "\", 'x " + strings.Repeat(".,[", 100) + "', \"\"\"\n" +
				strings.Repeat("a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r.s.t.u.v.w.x.y.z.a.b.c.d.e.f.g.h.i\n", 3) + "\\\"\"\"\" ]\n",
			want: "x.toml:4: line "},
		{name: "multi-line literal string", data: "[[edit]]\nsection = \"global\"\nset = ['''\n" + strings.Repeat("[[[[[[[[[[[[.....,,,,,\n", 2000) + "''']\n",
			want: "x.toml:3: line of 46000 bytes is longer than the limit of 16384"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load("x.toml", []byte(tt.data))
			if tt.want == "" {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			first, _, _ := strings.Cut(err.Error(), "\n")
			assert.Contains(t, first, tt.want)
			if !strings.Contains(tt.want, "more than") {
				assert.NotContains(t, err.Error(), "more than", "not a bound of the shape")
			}
		})
	}
}
