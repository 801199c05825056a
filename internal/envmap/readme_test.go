package envmap

import (
	"fmt"
	"strings"
	"testing"

	"github.com/serve-launch/serve-launch/internal/testing/testenv"
)

const (
	referencePath = "../../docs/reference.md"
	beginMarker   = "<!-- envmap:begin -->\n"
	endMarker     = "<!-- envmap:end -->"
)

// TestReference fails when the variable table of docs/reference.md is not
// what [markdown] generates; run `go test ./internal/envmap -update` to
// rewrite it.
func TestReference(t *testing.T) {
	testenv.GoldenSection(t, referencePath, beginMarker, endMarker, markdown())
}

// markdown returns docs/reference.md's variable table, generated from
// [Table] and [Gaps].
func markdown() string {
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
	b.WriteString("\nThe table is Ray 2.55's, the release serve-launch targets unless `--ray-version`\n")
	b.WriteString("(or `SERVE_LAUNCH_RAY_VERSION`) names another: `serve-launch env --ray-version master`\n")
	b.WriteString("shows that release's defaults, marks the variables it does not read, and warns about\n")
	b.WriteString("a value set for one (an error with `--strict`).\n")
	b.WriteString("\nSettings no variable reaches in Ray 2.55, and the override snippet that covers each:\n\n")
	b.WriteString("| Setting | Section | Ray 2.55 generates | Snippet |\n|---|---|---|---|\n")
	for _, g := range Gaps(Release255) {
		fmt.Fprintf(&b, "| %s | `%s` | %s | `%s` |\n", g.Setting, g.Section, g.Ray, g.Snippet)
	}
	return b.String()
}

// mdEscape keeps a cell inside its table column.
func mdEscape(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
