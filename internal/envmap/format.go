package envmap

import (
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"sync"
)

// bareValue matches values that need no quotes in an env file read by
// go-envparse, systemd or docker.
// Compiled on first use, since package init runs on every shim start.
var bareValue = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9_./:,@%+=-]+$`) })

// QuoteValue returns value written so that go-envparse, and so [Load],
// reads it back as is: the quoting of every env file serve-launch writes.
func QuoteValue(value string) string {
	switch {
	case bareValue().MatchString(value):
		return value
	case !strings.ContainsFunc(value, func(r rune) bool { return r == '\'' || r < 0x20 || r == 0x7f }):
		// go-envparse takes everything between single quotes literally.
		return "'" + value + "'"
	default:
		// go-envparse decodes JSON escapes inside double quotes, and rejects
		// raw control characters anywhere.
		b, err := json.Marshal(value)
		if err != nil {
			return strconv.Quote(value)
		}
		return string(b)
	}
}

// nonDefault returns the settings whose effective value differs from Ray's:
// what an env file must hold to reproduce this Env.
func (e *Env) nonDefault() []Setting {
	var out []Setting
	for _, s := range e.settings {
		if s.Set && (s.Var.Omitted || s.Value != s.Var.DefaultIn(e.release)) {
			out = append(out, s)
		}
	}
	return out
}

// WriteEnvFile writes an env file of the non-default values, one
// "NAME=value" line each after a comment with its doc. Loading it with no
// environment gives the same effective values, and writing that load again
// gives the same bytes (sources are left out for that reason).
func (e *Env) WriteEnvFile(w io.Writer) error {
	if _, err := fmt.Fprintln(w, "# RAY_SERVE_HAPROXY_* settings that differ from Ray's defaults (serve-launch env --format env)"); err != nil {
		return err
	}
	for _, s := range e.nonDefault() {
		if _, err := fmt.Fprintf(w, "# %s\n%s=%s\n", s.Var.Doc, s.Var.Name, QuoteValue(s.Value)); err != nil {
			return err
		}
	}
	return nil
}
