//go:build linux

package shim

import (
	"bytes"
	"path/filepath"
	"strings"

	"github.com/serve-launch/serve-launch/internal/patch"
)

// ConfigFacts are what hot reload and status need from a configuration: the
// admin socket, the server-state file and the listeners.
type ConfigFacts struct {
	AdminSocket     string
	ServerStateFile string // absolute, after server-state-base
	Listeners       []string
}

// ScanConfig extracts [ConfigFacts] from the files of one configuration, in
// load order, with a plain line scan: the full model lives in internal/patch
// behind the bytes-to-bytes [Patcher], and these few keywords need no more
// than word splitting. Where sections start is the model's rule
// (patch.IsSectionKeyword), not a list of its own.
func ScanConfig(files ...[]byte) ConfigFacts {
	var f ConfigFacts
	var base, file string
	var section []byte // the current section's keyword, in data
	// The files are scanned in load order. Only the few lines whose first
	// word matters are split into words: the shim scans a generated config
	// of thousands of server lines on every haproxy start.
	for _, data := range files {
		for len(data) > 0 {
			raw := data
			if i := bytes.IndexByte(data, '\n'); i >= 0 {
				raw, data = data[:i], data[i+1:]
			} else {
				data = nil
			}
			if i := bytes.IndexByte(raw, '#'); i >= 0 {
				raw = raw[:i]
			}
			first := firstWord(raw)
			// Sections as the patch model (and haproxy) know them: by the
			// first word, whatever the indentation.
			if patch.IsSectionKeyword(string(first)) {
				section = first
				continue
			}
			switch string(first) {
			case "stats", "server-state-base", "server-state-file", "bind":
			default:
				continue
			}
			line := string(raw)
			words := strings.Fields(line)
			switch {
			case string(section) == "global" && words[0] == "stats" && len(words) >= 3 && words[1] == "socket":
				addr := strings.TrimPrefix(words[2], "unix@")
				if strings.HasPrefix(addr, "/") && strings.Contains(line, "level admin") && f.AdminSocket == "" {
					f.AdminSocket = addr
				}
			case string(section) == "global" && words[0] == "server-state-base" && len(words) >= 2:
				base = words[1]
			case string(section) == "global" && words[0] == "server-state-file" && len(words) >= 2:
				file = words[1]
			case (string(section) == "frontend" || string(section) == "listen") && words[0] == "bind" && len(words) >= 2:
				f.Listeners = append(f.Listeners, words[1])
			}
		}
	}
	if file != "" {
		if !strings.HasPrefix(file, "/") && base != "" {
			file = filepath.Join(base, file)
		}
		f.ServerStateFile = file
	}
	return f
}

// firstWord is the first word of a line, split as strings.Fields splits it
// for the ASCII spaces a config uses.
func firstWord(line []byte) []byte {
	i := 0
	for i < len(line) && isFieldSpace(line[i]) {
		i++
	}
	j := i
	for j < len(line) && !isFieldSpace(line[j]) {
		j++
	}
	return line[i:j]
}

func isFieldSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f'
}
