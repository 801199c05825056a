package migrate

import (
	"strconv"
	"time"

	"github.com/serve-launch/serve-launch/internal/envmap"
)

// wholeSeconds converts an HAProxy time to a whole number of seconds, the
// type of Ray's *_S variables; false when it is not one ("1500ms").
func wholeSeconds(s string) (string, bool) {
	d, ok := envmap.ParseTime(s)
	if !ok || d%time.Second != 0 {
		return "", false
	}
	return strconv.FormatInt(int64(d/time.Second), 10), true
}

// sameTime reports whether two HAProxy times are equal.
func sameTime(a, b string) bool {
	x, ok1 := envmap.ParseTime(a)
	y, ok2 := envmap.ParseTime(b)
	return ok1 && ok2 && x == y
}
