package docs_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestArchitecture holds ARCHITECTURE.md's package table to the tree: every
// product package has a row, every row is a package, and a package imports
// only packages of the module its row names (or, for cmd/serve-launch, any
// product package). A newcomer reads that table first; it must not lie.
func TestArchitecture(t *testing.T) {
	const module = "github.com/serve-launch/serve-launch/"
	data, err := os.ReadFile(filepath.Join(repoRoot, "ARCHITECTURE.md"))
	require.NoError(t, err)
	// "." is the module root's package (the embedded overrides.d).
	row := regexp.MustCompile(`(?m)^\| ((?:cmd|internal)/[^ |]*|\.)(?: \([^)]*\))? \| [^|]* \| ([^|]*) \|$`)
	allowed := map[string][]string{}
	for _, m := range row.FindAllStringSubmatch(string(data), -1) {
		var may []string
		for _, p := range strings.Split(m[2], ",") {
			may = append(may, strings.TrimSpace(p))
		}
		allowed[m[1]] = may
	}
	require.NotEmpty(t, allowed, "ARCHITECTURE.md has no package table")

	cmd := exec.Command("go", "list", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`, "./...")
	cmd.Dir = repoRoot
	out, err := cmd.Output()
	require.NoError(t, err)
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		pkg := strings.TrimPrefix(f[0], module)
		if f[0]+"/" == module {
			pkg = "."
		}
		if strings.HasPrefix(pkg, "internal/testing/") || strings.HasPrefix(pkg, "scripts/") || strings.HasPrefix(pkg, "internal/proc/internal/") || pkg == "internal/hapkw/gen" {
			continue
		}
		may, ok := allowed[pkg]
		if !assert.True(t, ok, "ARCHITECTURE.md has no row for %s", pkg) {
			continue
		}
		delete(allowed, pkg)
		for _, imp := range f[1:] {
			dep, ours := strings.CutPrefix(imp, module+"internal/")
			if imp+"/" == module {
				dep, ours = ".", true
			}
			if !ours || may[0] == "any product package" {
				continue
			}
			assert.Contains(t, may, dep, "%s imports %s, which its row in ARCHITECTURE.md does not name", pkg, dep)
		}
	}
	delete(allowed, "internal/testing/...")
	assert.Empty(t, allowed, "ARCHITECTURE.md names packages that do not exist")
}
