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

// NonDefault returns the settings whose effective value differs from Ray's:
// what an env file must hold to reproduce this Env.
func (e *Env) NonDefault() []Setting {
	var out []Setting
	for _, s := range e.settings {
		if s.Set && (s.Var.Omitted || s.Value != s.Var.Default) {
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
	for _, s := range e.NonDefault() {
		if _, err := fmt.Fprintf(w, "# %s\n%s=%s\n", s.Var.Doc, s.Var.Name, QuoteValue(s.Value)); err != nil {
			return err
		}
	}
	return nil
}

// Markdown returns the README's variable table, generated from [Table] and
// [Gaps].
func Markdown() string {
	var b strings.Builder
	b.WriteString("| Variable | Type | Ray default | Drives | Ray versions | What it does |\n")
	b.WriteString("|---|---|---|---|---|---|\n")
	for _, v := range Table() {
		typ := string(v.Kind)
		if len(v.Values) > 0 {
			typ += ": " + strings.Join(v.Values, ", ")
		}
		def := "`" + v.Default + "`"
		if v.Omitted {
			def = "unset (omitted)"
		}
		directive := strings.ReplaceAll(v.Directive, "{}", "<value>")
		drives := "`" + v.Section + "`: `" + directive + "`"
		if v.Kind == KindFlag {
			drives = "`" + v.Section + "`: `" + v.Directive + "` when \"1\", else `" + v.DirectiveOff + "`"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s | %s |\n", v.Name, typ, def, mdEscape(drives), v.Versions, mdEscape(v.Doc))
	}
	b.WriteString("\nVariables under `RAY_SERVE_HAPROXY_H2_`, `RAY_SERVE_HAPROXY_INGRESS_` and\n")
	b.WriteString("`RAY_SERVE_INGRESS_REQUEST_ROUTER_` (Ray after 2.55) are passed to Ray unchecked.\n")
	b.WriteString("\nSettings no variable reaches in Ray 2.55, and the override snippet that covers each:\n\n")
	b.WriteString("| Setting | Section | Ray 2.55 generates | Snippet |\n|---|---|---|---|\n")
	for _, g := range Gaps() {
		fmt.Fprintf(&b, "| %s | `%s` | %s | `%s` |\n", g.Setting, g.Section, g.Ray, g.Snippet)
	}
	return b.String()
}

// mdEscape keeps a cell inside its table column.
func mdEscape(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
