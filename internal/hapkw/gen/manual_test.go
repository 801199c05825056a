package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// miniManual is a made-up manual in the layout of HAProxy's
// configuration.txt: numbered, underlined sections; keyword headers at
// column 0 with indented descriptions; the proxy and actions matrices.
const miniManual = `
1. Intro
--------

3. Global parameters
--------------------

3.1. Process management and security
------------------------------------

Prose at column 0 starts with a capital letter
and goes on at column 0 too.

alpha-one <number>
  Indented description.

stats widget [<path>] [param*]
  Two words, then arguments.

multi-a <x>
multi-b <x>
  One description for both.

3.4. Userlists
--------------

user-only <name>
  Not a global keyword.

4. Proxies
----------

4.1. Proxy keywords matrix
--------------------------

 keyword                              defaults   frontend   listen    backend
------------------------------------+----------+----------+---------+---------
option frob                  (*)          X          -         X         X
timeout frob                              X (!)      X         X         -
-- keyword -------------------------- defaults - frontend - listen -- backend -
http-request                              X          X         X         X

4.2. Alphabetically sorted keywords reference
---------------------------------------------

option oldfrob (deprecated)
no option oldfrob  (deprecated)
  Still accepted.

http-request do-thing <arg> [ { if | unless } <condition> ]

  Blank line before the description.

http-request two-line(<id>) { <int> | <expr> }
                            [ { if | unless } <condition> ]
http-response two-line(<id>) { <int> | <expr> }
  Continued headers.

4.3. Actions keywords matrix
----------------------------

 keyword                TCP: RqCon RqSes RqCnt RsCnt   HTTP: Req Res Aft
----------------------+-----------+-----+-----+------+----------+---+----
only-matrix (deprecated)       X     X     X     X            X   X   -

4.4. Alphabetically sorted actions reference
--------------------------------------------

set-thing <fmt>
  Usable in:  QUIC Ini|    TCP RqCon| RqSes| RqCnt| RsCnt|    HTTP Req| Res| Aft
                    - |          -  |   -  |   -  |   -  |          X |  - |  X

long-args [ a <x> ]
     [ b <y> ]
  Usable in:  TCP RqCon| RqSes| RqCnt| RsCnt|    HTTP Req| Res| Aft
                    -  |   -  |   -  |   -  |          - |  X |  -

5. Bind and server options
--------------------------

5.1. Bind options
-----------------

The currently supported settings are the following ones.

bind-flag
  A flag.

5.2. Server and default-server options
--------------------------------------

which are all passed as arguments on the server line, at column 0
after a line of prose.

srv-param(<id>) <fmt>
  A parameter with an argument list.
`

func TestParseManual(t *testing.T) {
	got := map[string]bool{}
	for _, k := range parseManual(miniManual) {
		got[k.context+": "+k.name] = true
	}
	want := []string{
		"global: alpha-one", "global: stats widget", "global: multi-a", "global: multi-b",
		"proxy: option frob", "proxy: timeout frob", "proxy: http-request",
		"proxy-documented: option oldfrob", "proxy-documented: http-request do-thing",
		"http-request: do-thing", "http-request: two-line", "http-response: two-line",
		"http-request: only-matrix", "http-response: only-matrix",
		"http-request: set-thing", "http-after-response: set-thing", "http-response: long-args",
		"bind: bind-flag", "server: srv-param",
	}
	for _, w := range want {
		assert.True(t, got[w], "missing %q", w)
	}
	for _, no := range []string{"global: user-only", "global: Prose", "server: which", "bind: The", "global: and"} {
		assert.False(t, got[no], "%q is no keyword", no)
	}
}

func TestKeywordOf(t *testing.T) {
	tests := map[string]string{
		"stats socket [<address:port>|<path>] [param*]": "stats socket",
		"tune.h2.fe.max-concurrent-streams <number>":    "tune.h2.fe.max-concurrent-streams",
		"daemon":                        "daemon",
		"profiling.tasks { auto | on }": "profiling.tasks",
		"sc-inc-gpc0(<sc-id>)":          "sc-inc-gpc0",
		"option oldfrob (deprecated)":   "option oldfrob",
	}
	for in, want := range tests {
		t.Run(in, func(t *testing.T) { assert.Equal(t, want, keywordOf(in)) })
	}
}

// TestRows checks the versions recorded: first manual, first manual without
// it after the last with it, and a proxy keyword the later matrix lacks but
// whose reference still documents it.
func TestRows(t *testing.T) {
	ms := []manual{
		{tag: "v2.6.0", version: "2.6", keywords: []found{{"global", "old"}, {"global", "gap"}, {"proxy", "option dep"}}},
		{tag: "v2.8.0", version: "2.8", keywords: []found{{"global", "old"}, {"global", "new"}, {"proxy", "option dep"}}},
		{tag: "v3.0.0", version: "3.0", keywords: []found{{"global", "new"}, {"global", "gap"}, {"proxy-documented", "option dep"}}},
	}
	got := rows(ms)
	require.Equal(t, []row{
		{found{"global", "gap"}, "2.6", "-"},
		{found{"global", "new"}, "2.8", "-"},
		{found{"global", "old"}, "2.6", "3.0"},
		{found{"proxy", "option dep"}, "2.6", "-"},
	}, got)
	src, err := render(ms)
	require.NoError(t, err)
	assert.Contains(t, string(src), `const manualTags = "v2.6.0 v2.8.0 v3.0.0"`)
	assert.Contains(t, string(src), "global\told\t2.6\t3.0\n")
	assert.True(t, strings.HasPrefix(string(src), "// Code generated by go run ./internal/hapkw/gen from HAProxy's doc/configuration.txt at v2.6.0, v2.8.0, v3.0.0; DO NOT EDIT.\n"))
}
