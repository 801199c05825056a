package patch

import (
	"slices"

	"github.com/serve-launch/serve-launch/internal/patch/config"
)

// mergeParams applies set and delete to a directive's words: a parameter that
// is already there is replaced in place, a new one is appended, deleted ones
// are removed. The head (keyword, name, address) is kept. The merged words
// are appended to dst, which must not share memory with words.
func mergeParams(dst, words []string, set []config.Param, del []string) []string {
	start, _ := config.ParamStart(words[0])
	if start > len(words) {
		start = len(words)
	}
	// On the stack for a line of up to 16 parameters: a params edit merges
	// into every line it matches, and the shim, its garbage collector off,
	// would keep a slice per line to its exit (0.45 MB at 16384 servers).
	var buf [16]config.Param
	have := config.AppendParams(buf[:0], words[start:])
	out := have[:0]
	for _, p := range have {
		if !slices.Contains(del, p.Name) {
			out = append(out, p)
		}
	}
	for _, s := range set {
		if i := slices.IndexFunc(out, func(p config.Param) bool { return p.Name == s.Name }); i >= 0 {
			out[i] = s
		} else {
			out = append(out, s)
		}
	}
	merged := append(dst, words[:start]...)
	for _, p := range out {
		merged = append(merged, p.Name)
		if !p.Flag {
			merged = append(merged, p.Value)
		}
	}
	return merged
}
