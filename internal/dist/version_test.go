package dist

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPEP440(t *testing.T) {
	for _, tc := range []struct{ describe, want string }{
		{"v1.2.3", "1.2.3"},
		{"1.2.3", "1.2.3"},
		{"v0.3", "0.3"},
		{"v1.2.3-rc.1", "1.2.3rc1"},
		{"v1.2.3-rc1", "1.2.3rc1"},
		{"v1.2.3rc2", "1.2.3rc2"},
		{"v2.0.0-beta.2", "2.0.0b2"},
		{"v2.0.0-alpha", "2.0.0a0"},
		{"v2.0.0-pre.3", "2.0.0rc3"},
		{"v1.2.3-dirty", "1.2.3+dirty"},
		{"v1.2.3-5-gabc1234", "1.2.3.post5+gabc1234"},
		{"v1.2.3-5-gabc1234-dirty", "1.2.3.post5+gabc1234.dirty"},
		{"v1.2.3-rc.1-12-g0123456789ab", "1.2.3rc1.post12+g0123456789ab"},
		{"a024b53", "0.0.0.dev0+ga024b53"},
		{"a024b53-dirty", "0.0.0.dev0+ga024b53.dirty"},
		{"1234567", "0.0.0.dev0+g1234567"},
		{"v1234567", "1234567"},
		{"2024", "2024"},
		{"dev", "0.0.0.dev0"},
		{"", "0.0.0.dev0"},
		{" v1.2.3\n", "1.2.3"},
	} {
		t.Run(tc.describe, func(t *testing.T) {
			got, err := PEP440(tc.describe)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestPEP440Refuses(t *testing.T) {
	for _, describe := range []string{"release-2024", "v1.2.3-5-gabc1234-extra", "v1..2", "latest-3-gabc1234"} {
		t.Run(describe, func(t *testing.T) {
			_, err := PEP440(describe)
			require.Error(t, err)
			assert.Contains(t, err.Error(), "is not a release")
		})
	}
}

func TestFileVersion(t *testing.T) {
	assert.Equal(t, "1.2.3-5-gabc1234", fileVersion("v1.2.3-5-gabc1234"))
	assert.Equal(t, "a024b53-dirty", fileVersion("a024b53-dirty"))
	assert.Equal(t, "dev", fileVersion(""))
}
