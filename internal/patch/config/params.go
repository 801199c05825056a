package config

// Param is one server or bind parameter: a name and, unless it is a flag,
// a value.
type Param struct {
	Name  string
	Value string
	Flag  bool
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

// IsParamFlag reports whether the server or bind parameter name is a flag,
// one that takes no value.
func IsParamFlag(name string) bool { return paramFlags[name] }

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

// ParseParams is SplitParams into Params.
func ParseParams(words []string) []Param {
	return AppendParams(make([]Param, 0, len(words)), words)
}

// AppendParams is ParseParams appending to ps: a caller that only looks at
// the parameters can keep them on its stack.
func AppendParams(ps []Param, words []string) []Param {
	for i := 0; i < len(words); {
		if paramLen(words, i) == 1 {
			ps = append(ps, Param{Name: words[i], Flag: true})
			i++
		} else {
			ps = append(ps, Param{Name: words[i], Value: words[i+1]})
			i += 2
		}
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

// ParamStart is the index of the first parameter word for each keyword
// that takes parameters: server NAME ADDR, server-template PREFIX NUM ADDR,
// default-server, bind ADDR. ok is false for any other keyword. A switch,
// not a map: params edits ask it of every line of every section they match.
func ParamStart(kw string) (start int, ok bool) {
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

// ParamKeywords lists the keywords ParamStart knows, in a new slice.
func ParamKeywords() []string {
	return []string{"server", "server-template", "default-server", "bind"}
}
