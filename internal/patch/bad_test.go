package patch

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/serve-launch/serve-launch/internal/patch/config"
	"github.com/serve-launch/serve-launch/internal/patch/snippet"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestBadSnippets loads every testdata/bad/NAME.toml and, when it loads,
// applies it to ray-2.55.cfg. The first line says what must come out:
//
//	# want: <exact substring of the error, including file:line>
//
// Every message names the snippet file:line, so each want starts with one.
func TestBadSnippets(t *testing.T) {
	paths, err := filepath.Glob("testdata/bad/*.toml")
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(paths), 25)
	cfg := mustRead(t, "testdata/ray-2.55.cfg")
	for _, path := range paths {
		name := filepath.Base(path)
		t.Run(strings.TrimSuffix(name, ".toml"), func(t *testing.T) {
			data := mustRead(t, path)
			first, _, _ := bytes.Cut(data, []byte("\n"))
			want, ok := strings.CutPrefix(string(first), "# want: ")
			require.True(t, ok, "%s: the first line must be # want: MESSAGE", path)
			require.True(t, strings.HasPrefix(want, name+":"), "%s: the want must start with the file:line", path)

			err := badSnippetErr(name, data, cfg)
			require.Error(t, err, "%s must fail", path)
			assert.Contains(t, err.Error(), want)
			// All errors of a run come as a list of positioned errors.
			var list config.ErrorList
			require.ErrorAs(t, err, &list)
			for _, e := range list {
				assert.Equal(t, name, e.Pos.File, "%v", e)
				assert.Positive(t, e.Pos.Line, "every message names a line: %v", e)
			}
		})
	}
}

func badSnippetErr(name string, data, cfg []byte) error {
	sn, err := snippet.Load(name, data)
	if err != nil {
		return err
	}
	_, err = (&Overrides{Snippets: []*snippet.Snippet{sn}}).Patch("ray-2.55.cfg", cfg, ApplyOptions{Getenv: noEnv})
	return err
}

// TestBadSnippetReportsAll checks that one run reports every error of a
// file, in line order, rather than stopping at the first.
func TestBadSnippetReportsAll(t *testing.T) {
	err := badSnippetErr("many-errors.toml", mustRead(t, "testdata/bad/many-errors.toml"), mustRead(t, "testdata/ray-2.55.cfg"))
	var list config.ErrorList
	require.ErrorAs(t, err, &list)
	require.Len(t, list, 3, "%v", err)
	assert.Equal(t, 4, list[0].Pos.Line)
	assert.Equal(t, 7, list[1].Pos.Line)
	assert.Equal(t, 10, list[2].Pos.Line)
}
