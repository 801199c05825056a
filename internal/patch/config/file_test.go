package config

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// dump describes the parse of a file, one line per input line, for golden tests.
func dump(f *File) string {
	var b strings.Builder
	line := func(prefix string, s *Section, l *Line) {
		key := l.Key()
		if s != nil && key != "" && s.IsList(l) {
			key += " [list]"
		}
		fmt.Fprintf(&b, "%4d %s %-40q key=%q words=%q\n", l.Pos.Line, prefix, l.Raw, key, l.Words())
	}
	for _, l := range f.Preamble {
		line("pre", nil, l)
	}
	for _, s := range f.Sections {
		fmt.Fprintf(&b, "== kind=%s name=%q from=%q indent=%q\n", s.Kind, s.Name, s.From, s.Indent())
		line("hdr", s, s.Header)
		for _, l := range s.Body {
			line("   ", s, l)
		}
	}
	return b.String()
}

func testConfigs(t testing.TB) []string {
	paths, err := filepath.Glob("../testdata/*.cfg")
	require.NoError(t, err)
	require.NotEmpty(t, paths)
	return paths
}

func TestParseRoundTripGolden(t *testing.T) {
	for _, path := range testConfigs(t) {
		t.Run(filepath.Base(path), func(t *testing.T) {
			data, err := os.ReadFile(path)
			require.NoError(t, err)
			f, err := Parse(path, data)
			require.NoError(t, err)
			assert.Equal(t, data, f.Render(), "render must give back the exact bytes")
			var b bytes.Buffer
			n, err := f.WriteTo(&b)
			require.NoError(t, err)
			assert.Equal(t, data, b.Bytes(), "WriteTo must write what Render returns")
			assert.Equal(t, int64(len(data)), n)
			golden(t, "parse/"+strings.TrimSuffix(filepath.Base(path), ".cfg")+".golden", []byte(dump(f)))
		})
	}
}

func TestParseSections(t *testing.T) {
	f, err := Parse("hostile.cfg", mustRead(t, "../testdata/hostile.cfg"))
	require.NoError(t, err)
	var titles []string
	for _, s := range f.Sections {
		titles = append(titles, s.Title())
	}
	assert.Equal(t, []string{"global", "defaults named_defaults", "defaults", "frontend fe", "backend be",
		"userlist users", "peers mypeers", "resolvers dns", "cache mycache", "program helper", "ring myring",
		"http-errors errs", "mailers m"}, titles)
	assert.Equal(t, "named_defaults", f.Sections[2].From)
	assert.Equal(t, "named_defaults", f.Sections[3].From)
	assert.Len(t, f.Preamble, 2)
	assert.Equal(t, "\t", f.Sections[0].Indent())
}

func TestParseErrorsKeepBytes(t *testing.T) {
	in := "global\n    log \"abc\n    maxconn 10\nbackend b\n  x 'y\r\n"
	f, err := Parse("bad.cfg", []byte(in))
	require.Error(t, err)
	assert.Equal(t, in, string(f.Render()))
	var list ErrorList
	require.ErrorAs(t, err, &list)
	require.Len(t, list, 2)
	assert.Equal(t, "bad.cfg:2:9: unterminated double quote", list[0].Error())
	assert.Equal(t, "bad.cfg:5:5: unterminated single quote", list[1].Error())
}

func TestLineParts(t *testing.T) {
	f, err := Parse("x", []byte("a\n  b c \r\nd"))
	require.NoError(t, err)
	require.Len(t, f.Preamble, 3)
	l := f.Preamble[1]
	assert.Equal(t, "  ", l.Indent())
	assert.Equal(t, "\r\n", l.EOL())
	assert.Equal(t, "  b c ", l.Text())
	assert.Equal(t, "", f.Preamble[2].EOL())
}

func mustRead(t testing.TB, path string) []byte {
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	return data
}

func FuzzRoundTrip(f *testing.F) {
	for _, path := range testConfigs(f) {
		f.Add(mustRead(f, path))
	}
	f.Add([]byte("global\r\n\tmaxconn 1\r"))
	f.Add([]byte("defaults from x\nfrontend 'a b' from x\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, _ := Parse("fuzz.cfg", data)
		if got := cfg.Render(); !bytes.Equal(got, data) {
			t.Fatalf("round trip changed the bytes:\nin:  %q\nout: %q", data, got)
		}
		for _, s := range cfg.Sections {
			s.Indent()
			s.EOL()
			for _, l := range s.Body {
				_ = s.IsList(l)
			}
		}
		// Parse's shortcuts (keys sliced from the line, words in a shared
		// arena) must agree with the plain functions.
		cfg.eachLine(func(l *Line) {
			if l.Err() != nil {
				return
			}
			tok, err := Tokenize(l.Text())
			if err != nil || !slices.Equal(tok.Words, l.Words()) || tok.Comment != l.Comment() {
				t.Fatalf("line %q: Parse gave %q #%q, Tokenize %q #%q (%v)", l.Raw, l.Words(), l.Comment(), tok.Words, tok.Comment, err)
			}
			if k := Key(l.Words()); k != l.Key() {
				t.Fatalf("line %q: key %q, want %q", l.Raw, l.Key(), k)
			}
		})
	})
}

// bigConfig is a config in Ray's 2.55 shape with backends x servers servers.
func bigConfig(backends, servers int) []byte {
	var b bytes.Buffer
	ray := string(mustReadNoT("../testdata/ray-2.55.cfg"))
	head, _, _ := strings.Cut(ray, "backend http-text\n")
	b.WriteString(head)
	for i := 0; i < backends; i++ {
		fmt.Fprintf(&b, "backend http-app%d\n    log global\n    balance leastconn\n    http-reuse always\n", i)
		b.WriteString("    option httpchk GET /-/healthz\n    http-check expect status 200\n")
		b.WriteString("    default-server check inter 5s fastinter 250ms downinter 250ms fall 2 rise 2\n")
		for j := 0; j < servers; j++ {
			fmt.Fprintf(&b, "    server SERVE_REPLICA--app%d-Model-%08d 127.0.0.1:%d check\n", i, j, 30000+i*servers+j)
		}
	}
	b.WriteString("listen stats\n  bind *:8404\n  stats enable\n  stats uri /stats\n  stats refresh 1s\n")
	return b.Bytes()
}

func mustReadNoT(path string) []byte {
	data, err := os.ReadFile(path)
	if err != nil {
		panic(err)
	}
	return data
}

func BenchmarkParse4096Servers(b *testing.B) {
	data := bigConfig(256, 16)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse("big.cfg", data); err != nil {
			b.Fatal(err)
		}
	}
}
