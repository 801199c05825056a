package envmap

import (
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestVersionsAgreeWithReadBy keeps the "Ray versions" label of docs/reference.md and
// the releases code uses saying the same thing.
func TestVersionsAgreeWithReadBy(t *testing.T) {
	for _, v := range All() {
		t.Run(v.Name, func(t *testing.T) {
			in255, inMaster := v.ReadIn(Release255), v.ReadIn(ReleaseMaster) || v.ReadIn(ReleaseMasterJune)
			switch v.Versions {
			case Ray255, Ray255Uncertain:
				assert.True(t, in255 && inMaster, "read by 2.55 and master: %v", v.ReadBy)
			case Ray255Removed:
				assert.True(t, in255 && !inMaster, "read by 2.55, not master: %v", v.ReadBy)
			case RayMaster:
				assert.True(t, !in255 && inMaster, "read by master only: %v", v.ReadBy)
				assert.True(t, v.IgnoredBy(Release255) && v.IgnoredBy(ReleaseV1))
			default:
				assert.Empty(t, v.ReadBy, "a variable Ray does not read (%s)", v.Versions)
			}
			for r := range v.Defaults {
				assert.True(t, v.ReadIn(r), "a default for %s, which does not read it", r)
			}
		})
	}
}

func TestDefaultIn(t *testing.T) {
	nodelay, ok := Lookup("RAY_SERVE_HAPROXY_TCP_NODELAY")
	require.True(t, ok)
	tests := []struct {
		release Release
		want    string
	}{
		{Release255, "0"},
		{ReleaseMaster, "1"}, // #63353 turned it on
		{ReleaseMasterJune, "1"},
		{"", "0"}, // an unknown release gets the 2.55 default
	}
	for _, tc := range tests {
		t.Run(string(tc.release), func(t *testing.T) {
			assert.Equal(t, tc.want, nodelay.DefaultIn(tc.release))
		})
	}
	maxconn, _ := Lookup("RAY_SERVE_HAPROXY_MAXCONN")
	assert.Equal(t, "20000", maxconn.DefaultIn(ReleaseMaster))
}

func TestReadIn(t *testing.T) {
	tests := []struct {
		name string
		want []Release
	}{
		{"RAY_SERVE_HAPROXY_MAXCONN", []Release{ReleaseV1, Release255, ReleaseMaster, ReleaseMasterJune}},
		{"RAY_SERVE_HAPROXY_SYSLOG_PORT", []Release{ReleaseV1, Release255}},
		{"RAY_SERVE_HAPROXY_TCP_NODELAY", []Release{Release255, ReleaseMaster, ReleaseMasterJune}},
		{"RAY_SERVE_HAPROXY_STATS_PORT", []Release{ReleaseMaster, ReleaseMasterJune}},
		{"RAY_SERVE_HAPROXY_RETRY_ON", []Release{ReleaseMasterJune}},
		{"RAY_SERVE_HAPROXY_BINARY", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v, ok := Lookup(tc.name)
			require.True(t, ok)
			for _, r := range []Release{ReleaseV1, Release255, ReleaseMaster, ReleaseMasterJune} {
				assert.Equal(t, slices.Contains(tc.want, r), v.ReadIn(r), "%s", r)
			}
		})
	}
}

// TestFamilyTable checks the variables Load passes unchecked: each is under
// a known family and is no [Table] variable, so Load, docs/reference.md and the
// suggestions for misspelt names stay as they were.
func TestFamilyTable(t *testing.T) {
	for _, v := range familyTable() {
		t.Run(v.Name, func(t *testing.T) {
			inFamily := false
			for _, p := range knownFamilies() {
				inFamily = inFamily || strings.HasPrefix(v.Name, p)
			}
			assert.True(t, inFamily)
			_, listed := Lookup(v.Name)
			assert.False(t, listed)
			assert.Empty(t, unknownName(v.Name))
		})
	}
	for _, v := range Table() {
		for _, p := range knownFamilies() {
			assert.False(t, strings.HasPrefix(v.Name, p), "%s is under the family %s", v.Name, p)
		}
	}
	assert.Len(t, All(), len(Table())+len(familyTable()))
}

func TestParseRayVersion(t *testing.T) {
	tests := []struct {
		in      string
		want    Release
		wantErr string
	}{
		{in: "2.55", want: Release255},
		{in: "master", want: ReleaseMasterJune}, // the newest known
		{in: "master-june", want: ReleaseMasterJune},
		{in: "master-may", want: ReleaseMaster},
		{in: "v1", want: ReleaseV1},
		{in: "2.54", wantErr: `unknown Ray version "2.54": the versions known are v1, 2.55, master-may and master`},
		{in: "", wantErr: `unknown Ray version ""`},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseRayVersion(tc.in)
			if tc.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
	for _, v := range RayVersions() {
		assert.Equal(t, v.Name, v.Release.Name(), "every release has the name --ray-version gives it")
	}
}

func TestReaders(t *testing.T) {
	tests := []struct {
		name, want, notRead string
	}{
		{"RAY_SERVE_HAPROXY_RETRY_ON", "Ray master", "not read by Ray 2.55 (Ray master reads it)"},
		{"RAY_SERVE_HAPROXY_STATS_PORT", "Ray master-may and later", "not read by Ray 2.55 (Ray master-may and later read it)"},
		{"RAY_SERVE_HAPROXY_SYSLOG_PORT", "Ray v1 and 2.55", "not read by Ray 2.55 (Ray v1 and 2.55 read it)"},
		{"RAY_SERVE_HAPROXY_BINARY", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v, ok := Lookup(tc.name)
			require.True(t, ok)
			assert.Equal(t, tc.want, v.Readers())
			if tc.notRead != "" {
				assert.Equal(t, tc.notRead, v.NotRead(Release255))
			}
		})
	}
	binary, _ := Lookup("RAY_SERVE_HAPROXY_BINARY")
	assert.False(t, binary.IgnoredBy(Release255), "the wheel's variable is not Ray's to ignore")
}

// TestGapsFollowTheRelease: a setting Ray reaches itself from some release
// on is no gap there, and earlier releases say what that release does.
func TestGapsFollowTheRelease(t *testing.T) {
	settings := func(r Release) []string {
		var out []string
		for _, g := range Gaps(r) {
			out = append(out, g.Setting)
		}
		return out
	}
	assert.Contains(t, settings(Release255), "option redispatch")
	assert.Contains(t, settings(ReleaseMaster), "retries 1")
	assert.NotContains(t, settings(ReleaseMasterJune), "option redispatch")
	assert.NotContains(t, settings(ReleaseMasterJune), "retries 1")
	assert.Equal(t, Gaps(Release255), Gaps(""), "the zero value is the default release")
	for _, g := range Gaps(Release255) {
		if g.Setting == "option redispatch" {
			assert.Equal(t, "nothing (Ray master: option redispatch 1)", g.Ray)
		}
	}
}
