package migrate

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/serve-launch/serve-launch/internal/envmap"
)

// EnvFile returns the env file: one commented NAME=value line per variable
// whose value differs from Ray's default, in the order of envmap's table.
func (r *Result) EnvFile() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# RAY_SERVE_HAPROXY_* settings carried over from %s by serve-launch migrate.\n", r.Name)
	fmt.Fprintf(&b, "# Only values that differ from Ray's defaults are here; each names the line it comes from.\n")
	if len(r.Env) == 0 {
		fmt.Fprintf(&b, "# (none: every setting a variable covers is already Ray's default)\n")
	}
	for _, e := range r.Env {
		fmt.Fprintf(&b, "\n# %s\n%s=%s\n", comment(e.From), e.Name, envmap.QuoteValue(e.Value))
	}
	return b.Bytes()
}

// comment makes text safe as the rest of a one-line comment.
func comment(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}

// tomlString quotes s as a TOML string: a literal string when it can be one,
// so HAProxy's backslashes stay readable, else a basic string.
func tomlString(s string) string {
	if !strings.ContainsFunc(s, func(r rune) bool { return r == '\'' || r < 0x20 || r == 0x7f }) {
		return "'" + s + "'"
	}
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\u%04X`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// Snippet returns the overrides.d snippet: one [[edit]] per Ray section
// that receives lines, each line followed by a comment naming their line.
func (r *Result) Snippet() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# Settings of %s that no RAY_SERVE_HAPROXY_* variable reaches, as edits\n", r.Name)
	fmt.Fprintf(&b, "# of Ray's generated haproxy.cfg. Written by serve-launch migrate: review it,\n")
	fmt.Fprintf(&b, "# then keep it in overrides.d. Each line names the line of %s it carries.\n", r.Name)
	for t := target(0); t < nTargets; t++ {
		acc := r.edits[t]
		if acc == nil || acc.lines() == 0 {
			continue
		}
		b.WriteString("\n[[edit]]\n")
		switch t {
		case tGlobal:
			b.WriteString("section = \"global\"\n")
		case tDefaults:
			b.WriteString("section = \"defaults\"\n")
		case tFrontend:
			b.WriteString("section = \"frontend http_frontend\"\n")
		case tBackends:
			// Not optional: Ray's first start, before any app backend, is
			// the engine's to allow (an edit of backends waits for the
			// reload that brings them), and optional would hide a config
			// whose backends this edit no longer matches.
			b.WriteString("section = \"backend *\"\n")
			b.WriteString("exclude = [\"default_backend\"]\n")
		}
		add := acc.add
		if acc.checks != nil && !acc.checks.same {
			b.WriteString("delete = ['http-check *'] # Ray's health check rules; theirs are added below\n")
			add = append(slices.Clone(acc.checks.lines), add...)
		}
		writeList(&b, "set", acc.set)
		writeList(&b, "add", add)
		if len(acc.insert) > 0 {
			b.WriteString("insert = [\n")
			for _, l := range acc.insert {
				fmt.Fprintf(&b, "  { after = %s, lines = [%s] }, # %s\n", tomlString(l.anchor), tomlString(l.text), comment(l.from))
			}
			b.WriteString("]\n")
		}
		if len(acc.params) > 0 {
			b.WriteString("params = [\n")
			for _, l := range acc.params {
				fmt.Fprintf(&b, "  { on = \"default-server\", set = %s }, # %s\n", tomlString(l.text), comment(l.from))
			}
			b.WriteString("]\n")
		}
	}
	return b.Bytes()
}

func writeList(b *bytes.Buffer, name string, ls []*snipLine) {
	if len(ls) == 0 {
		return
	}
	fmt.Fprintf(b, "%s = [\n", name)
	for _, l := range ls {
		fmt.Fprintf(b, "  %s, # %s\n", tomlString(l.text), comment(l.from))
	}
	b.WriteString("]\n")
}

// SnippetLines counts the lines and parameters the snippet writes.
func (r *Result) SnippetLines() int {
	n := 0
	for _, acc := range r.edits {
		if acc != nil {
			n += acc.lines()
		}
	}
	return n
}

// lines counts the lines and parameters one edit writes.
func (acc *editAcc) lines() int {
	n := len(acc.set) + len(acc.add) + len(acc.insert) + len(acc.params)
	if acc.checks != nil && !acc.checks.same {
		n += len(acc.checks.lines)
	}
	return n
}

// reportWidth is the column the report's lines end before: it is read in
// a terminal as much as rendered as Markdown.
const reportWidth = 100

// reportGroups are the report's sections, one per way a setting is
// carried over, each with its title.
var reportGroups = []struct {
	how   How
	title string
}{
	{ByVariable, "As variables, in " + EnvFileName},
	{BySnippet, "As snippet lines, in " + SnippetDir + "/" + SnippetName},
	{ByDefault, "Already in Ray's config"},
	{NotCarried, "Not carried"},
}

// Report returns every setting of theirs, grouped by how it was carried
// over: where it is (their config is named once, each setting by its line),
// theirs, Ray's, and the variable, the snippet edit or the reason. Lines
// are wrapped before reportWidth columns.
func (r *Result) Report() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# Migration of %s\n\n", r.Name)
	compared := "Compared with: " + r.GeneratedName
	if r.Rendered {
		compared += fmt.Sprintf(" (one application, %s: one per server of theirs)", plural(max(r.Servers, 1), "replica"))
	}
	count := map[How]int{}
	for _, row := range r.Rows {
		count[row.How]++
	}
	wrap(&b, "", "", fmt.Sprintf("%s. Their replica servers: %d. %d settings: %d as variables, %d as snippet lines, %d already the default, %d not carried.",
		compared, r.Servers, len(r.Rows), count[ByVariable], count[BySnippet], count[ByDefault], count[NotCarried]))
	for _, g := range reportGroups {
		if count[g.how] == 0 {
			continue
		}
		fmt.Fprintf(&b, "\n## %s: %d\n\n", g.title, count[g.how])
		for _, row := range r.Rows {
			if row.How != g.how {
				continue
			}
			head := fmt.Sprintf("%s (line %d): theirs `%s`", comment(row.Setting), row.Pos.Line, comment(row.Their))
			switch row.Ray {
			case "":
			case "nothing":
				head += ", nothing in Ray's"
			default:
				head += ", Ray's " + mdCode(row.Ray)
			}
			wrap(&b, "- ", "  ", head)
			wrap(&b, "  ", "  ", comment(row.Detail))
		}
	}
	if len(r.Notes) > 0 {
		b.WriteString("\nValues that look derived from their server count:\n\n")
		for _, n := range r.Notes {
			wrap(&b, "- ", "  ", comment(n))
		}
	}
	snippet := plural(r.SnippetLines(), "line")
	if !r.HasSnippet() {
		snippet = "not written: nothing needs it"
	}
	b.WriteString("\n")
	wrap(&b, "", "", fmt.Sprintf("Files: %s (%s), %s/%s (%s).", EnvFileName, plural(len(r.Env), "variable"), SnippetDir, SnippetName, snippet))
	return b.Bytes()
}

// wrap writes text as lines shorter than reportWidth, breaking at spaces:
// the first line starts with first, the others with rest. A word longer
// than a line has a line of its own.
func wrap(b *bytes.Buffer, first, rest, text string) {
	if strings.TrimSpace(text) == "" {
		return
	}
	line := first
	empty := true
	for _, w := range strings.Fields(text) {
		if !empty && len(line)+1+len(w) >= reportWidth {
			b.WriteString(line + "\n")
			line, empty = rest, true
		}
		if !empty {
			line += " "
		}
		line += w
		empty = false
	}
	b.WriteString(line + "\n")
}

// mdCode is Ray's side of a setting for the report: a line in code, or a
// description (nothing, "2 log rules") as it is.
func mdCode(s string) string {
	switch {
	case s == "":
		return "-"
	case s == "nothing" || strings.HasSuffix(s, ", generated") || strings.HasSuffix(s, " rules"):
		return comment(s)
	}
	return "`" + comment(s) + "`"
}

// HasSnippet tells whether any setting needs the snippet. A snippet without
// edits is an error for the snippet loader, so none is written then.
func (r *Result) HasSnippet() bool { return r.SnippetLines() > 0 }

// WriteDir writes DIR/serve.env and, when there is anything to carry,
// DIR/overrides.d/50-migrated.toml; otherwise it removes a snippet an earlier
// run left there. The bytes depend only on the inputs, so running it twice
// gives the same files.
func (r *Result) WriteDir(dir string) error {
	if err := os.MkdirAll(filepath.Join(dir, SnippetDir), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, EnvFileName), r.EnvFile(), 0o644); err != nil {
		return err
	}
	snippet := filepath.Join(dir, SnippetDir, SnippetName)
	if !r.HasSnippet() {
		if err := os.Remove(snippet); err != nil && !os.IsNotExist(err) {
			return err
		}
		return nil
	}
	return os.WriteFile(snippet, r.Snippet(), 0o644)
}

// EnvMap returns the env file's variables as a map, for rendering Ray's
// config with them.
func (r *Result) EnvMap() map[string]string {
	m := make(map[string]string, len(r.Env))
	for _, e := range r.Env {
		m[e.Name] = e.Value
	}
	return m
}
