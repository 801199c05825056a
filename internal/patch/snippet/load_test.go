package snippet

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/serve-launch/serve-launch/internal/patch/config"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestIsParamName(t *testing.T) {
	re := regexp.MustCompile(`^[a-z][a-z0-9._-]*$`)
	for _, s := range []string{"", "a", "maxconn", "slowstart", "check-ssl", "ca-file", "x.y_z-1",
		"1abc", "-a", "_a", ".a", "Maxconn", "max conn", "maxconn=1", "ä", "a\n", "a9"} {
		assert.Equal(t, re.MatchString(s), isParamName(s), "%q", s)
	}
}

// TestParamsSetAndDeleted: a params entry that sets and deletes the same
// parameter moved it to the end on every run after the first (found by
// FuzzLoadSnippet).
func TestParamsSetAndDeleted(t *testing.T) {
	snippet := "[[edit]]\nsection = \"backend *\"\nparams = [{ on = \"default-server\", set = \"inter 1s maxconn 5\", delete = [\"maxconn\"] }]\n"
	_, err := Load("x.toml", []byte(snippet))
	require.Error(t, err)
	assert.Equal(t, `x.toml:3: params: "maxconn" is both set and deleted; give it in one of them`, err.Error())
}

// TestEmptySnippetFile covers a file of zero bytes, which cannot carry a
// want comment.
func TestEmptySnippetFile(t *testing.T) {
	_, err := Load("empty.toml", nil)
	require.Error(t, err)
	assert.Equal(t, "empty.toml:1: snippet has no [[edit]] and no [[section]]: nothing to do", err.Error())
}

// TestSnippetByteOrderMark checks that a UTF-8 byte order mark before the
// first table is skipped and the lines keep their numbers.
func TestSnippetByteOrderMark(t *testing.T) {
	_, err := Load("bom.toml", []byte("\xef\xbb\xbf[[edit]]\nsection = \"global\"\nset = [\"maxconn {{ bad\"]\n"))
	require.Error(t, err)
	assert.Equal(t, `bom.toml:3: template: function "bad" not defined`, err.Error())
}

// TestSnippetTemplateParts: the templates of one snippet are held to a
// number of parts in all, so that loading one stays fast.
func TestSnippetTemplateParts(t *testing.T) {
	var b strings.Builder
	b.WriteString("[[edit]]\nsection = \"backend *\"\nadd = [\n")
	for i := range 1000 {
		fmt.Fprintf(&b, "  'http-request set-header X-%d %s',\n", i, strings.Repeat("{{1}}", 60))
	}
	b.WriteString("]\n")
	_, err := Load("x.toml", []byte(b.String()))
	require.Error(t, err)
	var list config.ErrorList
	require.ErrorAs(t, err, &list)
	require.Len(t, list, 1, "said once")
	assert.Equal(t, "x.toml:274: template: the snippet's templates have more than 65536 parts in all; split it, or write fewer templated lines", list[0].Error())
}

// TestSnippetTemplatePartsSaidOnce: the templates after the one that passed
// the snippet's limit are left unparsed without a message each.
func TestSnippetTemplatePartsSaidOnce(t *testing.T) {
	var b strings.Builder
	b.WriteString("[[edit]]\nsection = \"global\"\nset = [\n")
	for i := range 300 {
		fmt.Fprintf(&b, "  'maxconn %s%d',\n", strings.Repeat("{{1}}", 60), i)
	}
	b.WriteString("]\n")
	_, err := Load("x.toml", []byte(b.String()))
	var list config.ErrorList
	require.ErrorAs(t, err, &list)
	require.Len(t, list, 1, "%v", err)
	assert.Contains(t, list[0].Error(), "the snippet's templates have more than 65536 parts in all")
}
