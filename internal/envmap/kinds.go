package envmap

import (
	"fmt"
	"net"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
)

// haproxyTime matches HAProxy's time format: a number with an optional unit
// (no unit means milliseconds).
// Compiled on first use, since package init runs on every shim start.
var haproxyTime = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^([0-9]+)(us|ms|s|m|h|d)?$`) })

// maxTime is the longest time haproxy accepts; longer ones fail `haproxy -c`
// with "timer overflow".
const maxTime = 2147483647 * time.Millisecond

// ParseTime returns the duration an HAProxy time such as 250ms, 5s or 1500
// (no unit means milliseconds) stands for, so that "1s", "1000" and "1000ms"
// compare equal; false when it is no HAProxy time or longer than haproxy
// accepts.
func ParseTime(s string) (time.Duration, bool) {
	m := haproxyTime().FindStringSubmatch(s)
	if m == nil {
		return 0, false
	}
	unit := map[string]time.Duration{"us": time.Microsecond, "": time.Millisecond, "ms": time.Millisecond,
		"s": time.Second, "m": time.Minute, "h": time.Hour, "d": 24 * time.Hour}[m[2]]
	n, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil || n > int64(maxTime/unit) {
		return 0, false
	}
	return time.Duration(n) * unit, true
}

// Check returns why value is not a valid value of v, as "a port from 1 to
// 65535", or "" when it is: what [Load] accepts, for code that writes
// values (migrate).
func (v Var) Check(value string) string { return check(v, value) }

// check returns why value is not a valid value of v, or "" when it is. The
// rules are stricter than Ray's own parsing on purpose: Ray's int() accepts
// "1_000" and " 5", and a flag of "true" is silently off, all of which are
// mistakes worth stopping for.
func check(v Var, value string) string {
	switch v.Kind {
	case KindInt:
		n, err := strconv.ParseUint(value, 10, 63)
		if err != nil || n == 0 && v.Name != "RAY_SERVE_HAPROXY_RETRIES" {
			return "a positive integer"
		}
	case KindSeconds:
		if _, err := strconv.ParseUint(value, 10, 31); err != nil {
			return "a whole number of seconds"
		}
	case KindPort:
		n, err := strconv.ParseUint(value, 10, 63)
		if err != nil || n < 1 || n > 65535 {
			return "a port from 1 to 65535"
		}
	case KindTime:
		// Every time variable is a health-check interval, and haproxy refuses
		// an interval of 0 ("invalid value 0 for argument 'inter'").
		if d, ok := ParseTime(value); !ok || d == 0 {
			return "an HAProxy time such as 250ms, 5s or 1m, above 0 and at most 2147483647ms (about 24.8 days)"
		}
	case KindFlag:
		if value != "0" && value != "1" {
			return `"1" or "0" (Ray treats anything but "1" as off)`
		}
	case KindPath:
		if !strings.HasPrefix(value, "/") {
			return "an absolute path"
		}
		// Ray writes the path into haproxy.cfg unquoted, where a space
		// ends it: "stats socket /tmp/a b.sock" fails haproxy's start.
		// On haproxy's command line (-f) it is one argument.
		if v.Section != "argv" && strings.ContainsFunc(value, unicode.IsSpace) {
			return "an absolute path without spaces (Ray writes it into haproxy.cfg unquoted)"
		}
	case KindCommand:
		if strings.ContainsAny(value, " \t") && !strings.HasPrefix(value, "/") {
			return "a program name or a path, without arguments"
		}
	case KindEnum:
		return checkBalance(v, value)
	case KindAddress:
		host, port, err := net.SplitHostPort(value)
		if err != nil || host == "" || strings.ContainsFunc(host, unicode.IsSpace) {
			return "a host:port address"
		}
		if n, err := strconv.ParseUint(port, 10, 63); err != nil || n < 1 || n > 65535 {
			return "a host:port address with a port from 1 to 65535"
		}
	case KindKeywords:
		words := strings.Fields(value)
		if len(words) == 0 {
			return "one or more of " + strings.Join(v.Values, ", ")
		}
		for _, w := range words {
			if !slices.Contains(v.Values, w) {
				return fmt.Sprintf("words from %s (%q is not one)", strings.Join(v.Values, ", "), w)
			}
		}
	}
	return ""
}

// checkBalance checks a "balance" argument exactly, since Ray writes it
// into haproxy.cfg unquoted after "balance": one algorithm name, which for
// hdr must carry "(header)", for rdp-cookie may carry "(name)" and for
// random "(draws)", and for url_param must be followed by the parameter
// name, as one more word. Nothing else: a further word would be read as
// an option of balance, or start a directive of its own.
func checkBalance(v Var, value string) string {
	want := "one of " + strings.Join(v.Values, ", ")
	fields := strings.Fields(value)
	if len(fields) == 0 {
		return want
	}
	name, arg, hasArg := strings.Cut(fields[0], "(")
	if !slices.Contains(v.Values, name) {
		return want
	}
	if hasArg {
		arg, closed := strings.CutSuffix(arg, ")")
		switch {
		case !closed || arg == "":
			return want + `, with a closed "(...)" argument`
		case name == "random" && strings.Trim(arg, "0123456789") != "":
			return `"random" or "random(<draws>)", a number of draws`
		case name != "hdr" && name != "rdp-cookie" && name != "random":
			return fmt.Sprintf("%q without an argument", name)
		case !isToken(arg):
			return fmt.Sprintf("%s(<name>) with a name of letters, digits, '-', '_' and '.'", name)
		}
	}
	switch {
	case name == "hdr" && !hasArg:
		return `"hdr(<header name>)"`
	case name == "url_param" && (len(fields) != 2 || !isToken(fields[1])):
		return `"url_param <parameter name>", one name of letters, digits, '-', '_' and '.'`
	case name != "url_param" && len(fields) != 1:
		return fmt.Sprintf("one word, %q, with nothing after it (Ray writes the value after \"balance\" as it is)", fields[0])
	}
	return ""
}

// isToken reports whether s is a header or parameter name haproxy reads as
// one word: letters, digits, '-', '_' and '.'.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return true
}
