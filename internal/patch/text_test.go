package patch

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCheckText(t *testing.T) {
	tests := []struct {
		name, data, want string
	}{
		{"text", "global\n    maxconn 10\n", ""},
		{"NUL on line 2", "global\n    maxconn 1\x000\n", "cfg:2:14: NUL byte: this is not a text haproxy config (a binary file?)"},
		{"ELF header", "\x7fELF\x02\x01\x01\x00", "cfg:1:8: NUL byte"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckText("cfg", []byte(tt.data))
			if tt.want == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}
