package envmap

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestEnvFileLimits(t *testing.T) {
	tests := []struct {
		name    string
		content string
		want    string
	}{
		{"file over the limit", strings.Repeat("# padding\n", maxEnvFileSize/10+1), "FILE: env file is larger than the limit of 1048576 bytes"},
		{"one huge line", "# ok\nRAY_SERVE_HAPROXY_MAXCONN=" + strings.Repeat("9", maxEnvFileSize-100) + "\n", "FILE:2: line of 1048502 bytes is longer than the limit of 32768"},
		{"a long value", "RAY_SERVE_HAPROXY_MAXCONN=" + strings.Repeat("9", 30000) + "\n", "FILE:1: RAY_SERVE_HAPROXY_MAXCONN=99999"},
		{"binary garbage", "\x7fELF\x02\x01\x01\x00\x00\x00\n\x00\xff=\x01\n", "FILE:1: not an env line"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, "big.env", tt.content)
			_, err := Load(Options{EnvFiles: []string{path}, NoFileLimit: bigLimit})
			require.Error(t, err)
			assert.Contains(t, err.Error(), strings.ReplaceAll(tt.want, "FILE", path))
		})
	}
}
