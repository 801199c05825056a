package patch

import "slices"

// param is one server or bind parameter: a name and, unless it is a flag, a value.
type param struct {
	name  string
	value string
	flag  bool
}

// paramFlags are server and bind parameters that take no value. Every other
// parameter takes exactly one word.
var paramFlags = map[string]bool{
	// server / default-server / server-template
	"check": true, "no-check": true, "backup": true, "no-backup": true, "disabled": true,
	"enabled": true, "ssl": true, "no-ssl": true, "check-ssl": true, "no-check-ssl": true,
	"send-proxy": true, "no-send-proxy": true, "send-proxy-v2": true, "no-send-proxy-v2": true,
	"send-proxy-v2-ssl": true, "no-send-proxy-v2-ssl": true, "send-proxy-v2-ssl-cn": true,
	"no-send-proxy-v2-ssl-cn": true, "check-send-proxy": true, "agent-check": true,
	"no-agent-check": true, "non-stick": true, "stick": true, "tfo": true, "no-tfo": true,
	"allow-0rtt": true, "force-sslv3": true, "force-tlsv10": true, "force-tlsv11": true,
	"force-tlsv12": true, "force-tlsv13": true, "no-sslv3": true, "no-tlsv10": true,
	"no-tlsv11": true, "no-tlsv12": true, "no-tlsv13": true, "no-ssl-reuse": true,
	"ssl-reuse": true, "no-tls-tickets": true, "tls-tickets": true, "no-verifyhost": true,
	"check-via-socks4": true, "no-check-via-socks4": true,
	// bind
	"accept-proxy": true, "defer-accept": true, "transparent": true, "v4v6": true,
	"v6only": true, "strict-sni": true, "prefer-client-ciphers": true, "no-ca-names": true,
	"quic-force-retry": true, "generate-certificates": true, "no-alpn": true,
}

// SplitParams splits server or bind parameter words into parameters: a
// flag (check, backup, ssl, ...) alone, anything else with its value. It is
// the one rule every reader of server lines uses (params edits, migrate), so
// a line written by one is read back the same by the other.
func SplitParams(words []string) [][]string {
	ps := make([][]string, 0, len(words))
	for i := 0; i < len(words); {
		n := paramLen(words, i)
		ps = append(ps, words[i:i+n])
		i += n
	}
	return ps
}

// paramLen is how many words the parameter at words[i] takes: one for a
// flag or a last word, two for anything else. It is SplitParams's rule, for
// readers that walk the words without building the split.
func paramLen(words []string, i int) int {
	if paramFlags[words[i]] || i+1 >= len(words) {
		return 1
	}
	return 2
}

// paramStart is the index of the first parameter word for each keyword that
// params edits: server NAME ADDR, server-template PREFIX NUM ADDR,
// default-server, bind ADDR. ok is false for any other keyword. A switch,
// not a map: params edits ask it of every line of every section they match.
func paramStart(kw string) (start int, ok bool) {
	switch kw {
	case "server":
		return 3, true
	case "server-template":
		return 4, true
	case "default-server":
		return 1, true
	case "bind":
		return 2, true
	}
	return 0, false
}

// paramKeywords are the keywords paramStart knows.
var paramKeywords = []string{"server", "server-template", "default-server", "bind"}

// paramKeywordsMatch reports whether an "on" glob can match a keyword that
// takes parameters.
func paramKeywordsMatch(g *glob) bool {
	for _, kw := range paramKeywords {
		if g.match(kw) {
			return true
		}
	}
	return false
}

// parseParams reads parameter words into params.
func parseParams(words []string) []param {
	ps := make([]param, 0, len(words))
	for i := 0; i < len(words); {
		if paramLen(words, i) == 1 {
			ps = append(ps, param{name: words[i], flag: true})
			i++
		} else {
			ps = append(ps, param{name: words[i], value: words[i+1]})
			i += 2
		}
	}
	return ps
}

// mergeParams applies set and delete to a directive's words: a parameter that
// is already there is replaced in place, a new one is appended, deleted ones
// are removed. The head (keyword, name, address) is kept.
func mergeParams(words []string, set []param, del []string) []string {
	start, _ := paramStart(words[0])
	if start > len(words) {
		start = len(words)
	}
	have := parseParams(words[start:])
	out := have[:0]
	for _, p := range have {
		if !slices.Contains(del, p.name) {
			out = append(out, p)
		}
	}
	for _, s := range set {
		found := false
		for i := range out {
			if out[i].name == s.name {
				out[i] = s
				found = true
				break
			}
		}
		if !found {
			out = append(out, s)
		}
	}
	merged := make([]string, start, start+2*len(out))
	copy(merged, words[:start])
	for _, p := range out {
		merged = append(merged, p.name)
		if !p.flag {
			merged = append(merged, p.value)
		}
	}
	return merged
}
