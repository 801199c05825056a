package docs_test

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/serve-launch/serve-launch/internal/envmap"
	"github.com/serve-launch/serve-launch/internal/patch"
	"github.com/serve-launch/serve-launch/internal/patch/config"
	"github.com/serve-launch/serve-launch/internal/patch/load"
)

// provenance finds the snippet file a patched line names.
var provenance = regexp.MustCompile(`serve-launch: ([^:\s]+):\d+`)

// TestGapsMatchOverrides ties the gap table (envmap's Gaps, which the
// table of docs/reference.md, env and its JSON print) to the repository's
// overrides.d: each setting is written by the snippet the table names, into
// the section the table names, and nowhere else. The README once put option
// http-keep-alive in defaults while 40-backends.toml set it in the app
// backends.
func TestGapsMatchOverrides(t *testing.T) {
	rc := renderRay(t)
	o, err := load.Dir(filepath.Join(repoRoot, "overrides.d"), load.Options{})
	require.NoError(t, err)
	getenv := func(k string) (string, bool) { v, ok := rc.env[k]; return v, ok }
	out, err := o.Patch("ray.cfg", rc.cfg, patch.ApplyOptions{Getenv: getenv})
	require.NoError(t, err)
	f, err := config.Parse("patched.cfg", out)
	require.NoError(t, err)

	for _, release := range []envmap.Release{envmap.Release255, envmap.ReleaseMasterJune} {
		for _, g := range envmap.Gaps(release) {
			t.Run(string(release)+"/"+g.Setting, func(t *testing.T) {
				key := gapKey(g.Setting)
				var where []string
				for _, s := range f.Sections {
					for _, l := range s.Body {
						m := provenance.FindStringSubmatch(l.Comment())
						if m == nil || l.Key() != key {
							continue
						}
						assert.True(t, inGapSection(s, g.Section), "%s: %s is written in %s, the table says %s", m[1], key, s.Title(), g.Section)
						assert.Equal(t, filepath.Base(g.Snippet), m[1], "%s in %s", key, s.Title())
						where = append(where, s.Title())
					}
				}
				assert.NotEmpty(t, where, "no snippet of overrides.d writes %s", key)
			})
		}
	}
}

// gapKey is the config key of a gap's setting: the line it names, or for
// the rate limits their first keyword.
func gapKey(setting string) string {
	words := strings.Fields(setting)
	if words[0] == "maxconnrate" {
		return "maxconnrate"
	}
	return config.Key(words)
}

// inGapSection reports whether s is a section the gap table's section
// column names: "global", "defaults", or "backend <app>" for Ray's
// application backends.
func inGapSection(s *config.Section, section string) bool {
	if section == "backend <app>" {
		return s.Kind == "backend" && s.Name != "default_backend"
	}
	return s.Title() == section || s.Kind == section
}
