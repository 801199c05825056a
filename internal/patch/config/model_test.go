package config

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestLineAt: LineAt and LastLine count the lines as Render writes them.
func TestLineAt(t *testing.T) {
	for _, path := range testConfigs(t) {
		f, err := Parse(path, mustRead(t, path))
		require.NoError(t, err)
		var all []*Line
		f.eachLine(func(l *Line) { all = append(all, l) })
		for i, l := range all {
			assert.Same(t, l, f.LineAt(i+1), "%s:%d", path, i+1)
		}
		assert.Nil(t, f.LineAt(0))
		assert.Nil(t, f.LineAt(len(all)+1))
		assert.Same(t, all[len(all)-1], f.LastLine())
	}
	empty, err := Parse("empty.cfg", nil)
	require.NoError(t, err)
	assert.Nil(t, empty.LastLine())
	preamble, err := Parse("p.cfg", []byte("# only\n# comments"))
	require.NoError(t, err)
	assert.Equal(t, "# comments", preamble.LastLine().Raw)
}

// TestSectionLines: Lines yields the lines of one keyword, in order, and
// stops when asked to.
func TestSectionLines(t *testing.T) {
	f, err := Parse("x.cfg", []byte("frontend f\n    bind :1\n    # bind :2\n    mode http\n    bind :3 ssl\n"))
	require.NoError(t, err)
	var got []string
	for l := range f.Sections[0].Lines("bind") {
		got = append(got, l.Word(1))
	}
	assert.Equal(t, []string{":1", ":3"}, got)
	for l := range f.Sections[0].Lines("bind") {
		assert.Equal(t, ":1", l.Word(1))
		break
	}
	assert.Empty(t, slices.Collect(f.Sections[0].Lines("server")))
}

// TestGlobalFirstWins covers the keywords haproxy keeps the first line of,
// and some it does not.
func TestGlobalFirstWins(t *testing.T) {
	for _, kw := range []string{"maxconn", "maxconnrate", "maxsessrate", "maxsslrate", "ulimit-n", "server-state-file", "tune.maxaccept", "ca-base"} {
		assert.True(t, GlobalFirstWins(kw), kw)
	}
	for _, kw := range []string{"nbthread", "log", "stats", "hard-stop-after", "tune.bufsize", "maxcomprate", ""} {
		assert.False(t, GlobalFirstWins(kw), kw)
	}
}

// TestReplicasTooLarge: a server-template of more slots than any replica
// count is refused by Add and counts none.
func TestReplicasTooLarge(t *testing.T) {
	f, err := Parse("x.cfg", []byte("backend a\n    server-template s 1-65536 127.0.0.1:1\n    server-template t 65537 127.0.0.1:1\n"+
		"    server-template u 0-9223372036854775807 127.0.0.1:1\n    server-template v 65536 127.0.0.1:1\n"))
	require.NoError(t, err)
	r := NewReplicas(0)
	var ok []bool
	for _, l := range f.Sections[0].Body {
		ok = append(ok, r.Add(l))
	}
	assert.Equal(t, []bool{true, false, false, true}, ok)
	assert.Equal(t, 2*65536, r.Len())
	assert.Equal(t, 2*65536, ServerCount(f.Sections))
}
