package migrate

import (
	"regexp"
	"strconv"
)

// timeRE is an HAProxy time: digits and an optional unit; no unit means ms.
var timeRE = regexp.MustCompile(`^([0-9]+)(us|ms|s|m|h|d)?$`)

// parseTime returns an HAProxy time in microseconds, so that "1s", "1000"
// and "1000ms" compare equal and "1500ms" is known not to be whole seconds.
func parseTime(s string) (int64, bool) {
	m := timeRE.FindStringSubmatch(s)
	if m == nil {
		return 0, false
	}
	n, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil || n > 1<<40 {
		return 0, false
	}
	unit := map[string]int64{"us": 1, "": 1000, "ms": 1000, "s": 1e6, "m": 60e6, "h": 3600e6, "d": 86400e6}[m[2]]
	return n * unit, true
}

// wholeSeconds converts an HAProxy time to a whole number of seconds, the
// type of Ray's *_S variables; false when it is not one ("1500ms").
func wholeSeconds(s string) (string, bool) {
	us, ok := parseTime(s)
	if !ok || us%1e6 != 0 {
		return "", false
	}
	return strconv.FormatInt(us/1e6, 10), true
}

// sameTime reports whether two HAProxy times are equal.
func sameTime(a, b string) bool {
	x, ok1 := parseTime(a)
	y, ok2 := parseTime(b)
	return ok1 && ok2 && x == y
}
