package snippet

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/serve-launch/serve-launch/internal/patch/config"
)

// HAProxy reads the limits below with atol(): a negative or too large value
// wraps around and a word that is no number reads as 0, silently. So
// `maxconnrate -2` limits nothing useful (haproxy reports 4294967294), and a
// template whose arithmetic went wrong can turn a limit into "no limit".
// numericProblem refuses such values where a snippet writes them, literal or
// rendered, with the range haproxy takes.

// maxInt is the largest value of haproxy's int settings (maxconn).
const maxInt = 1<<31 - 1

// maxUint is the largest value of haproxy's unsigned settings (the rates).
const maxUint = 1<<32 - 1

// maxTimeMS is the longest time haproxy takes, in milliseconds; a longer one
// fails `haproxy -c` with "timer overflow".
const maxTimeMS = 1<<31 - 1

// numericLimits maps a directive to the largest value haproxy takes for it.
var numericLimits = map[string]uint64{
	"maxconn":     maxInt,
	"maxconnrate": maxUint,
	"maxsessrate": maxUint,
}

// serverLimits maps server and default-server parameters to theirs.
var serverLimits = map[string]uint64{"maxconn": maxInt}

// numericProblem says why a directive's number would not be read as
// written, or "" when it would (or the directive has none this knows).
func numericProblem(words []string) string {
	if len(words) < 2 {
		return ""
	}
	kw := words[0]
	if limit, ok := numericLimits[kw]; ok {
		return integerProblem(kw, words[1], limit)
	}
	switch kw {
	case "timeout":
		if len(words) >= 3 {
			return timeProblem("timeout "+words[1], words[2])
		}
	case "server", "default-server", "server-template":
		start, _ := config.ParamStart(kw)
		if start >= len(words) {
			return ""
		}
		for _, p := range config.SplitParams(words[start:]) {
			if limit, ok := serverLimits[p[0]]; ok && len(p) == 2 {
				if msg := integerProblem(kw+" "+p[0], p[1], limit); msg != "" {
					return msg
				}
			}
		}
	}
	return ""
}

// integerProblem checks one value haproxy reads with atol into a setting
// of at most limit. A value holding "$" is left alone: haproxy substitutes
// environment variables ("${MAXCONN}") before it reads the number.
func integerProblem(what, value string, limit uint64) string {
	if strings.Contains(value, "$") {
		return ""
	}
	n, err := strconv.ParseUint(value, 10, 64)
	if err == nil && n <= limit {
		return ""
	}
	return fmt.Sprintf("%s %s is out of range: haproxy takes a whole number from 0 to %d here, and would read this one wrapped around, or as 0 (no limit)", what, value, limit)
}

// timeProblem checks an HAProxy time (250ms, 5s, 1m, a bare number of
// milliseconds) against the longest haproxy takes. A value that is no time
// at all is haproxy's to refuse: `haproxy -c` names it.
func timeProblem(what, value string) string {
	ms, ok := timeMillis(value)
	if !ok || ms <= maxTimeMS {
		return ""
	}
	return fmt.Sprintf("%s %s is out of range: haproxy takes a time of at most %dms (about 24.8 days)", what, value, maxTimeMS)
}

// timeMillis reads an HAProxy time as milliseconds, rounding microseconds
// up; ok is false when value is no time. A value too large to count is
// returned as maxTimeMS+1.
func timeMillis(value string) (uint64, bool) {
	i := 0
	for i < len(value) && value[i] >= '0' && value[i] <= '9' {
		i++
	}
	if i == 0 {
		return 0, false
	}
	var mul uint64
	switch value[i:] {
	case "us":
		n, err := strconv.ParseUint(value[:i], 10, 64)
		if err != nil {
			return maxTimeMS + 1, true
		}
		ms := n / 1000
		if n%1000 != 0 {
			ms++
		}
		return ms, true
	case "", "ms":
		mul = 1
	case "s":
		mul = 1000
	case "m":
		mul = 60 * 1000
	case "h":
		mul = 3600 * 1000
	case "d":
		mul = 86400 * 1000
	default:
		return 0, false
	}
	n, err := strconv.ParseUint(value[:i], 10, 64)
	if err != nil || n > (maxTimeMS+1)/mul+1 {
		return maxTimeMS + 1, true
	}
	return n * mul, true
}
