package config

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestParseRefusesNUL: a NUL byte (a binary file given as a config) is an
// error at its position; the file still renders back unchanged.
func TestParseRefusesNUL(t *testing.T) {
	tests := []struct {
		name, data, want string
	}{
		{"text", "global\n    maxconn 10\n", ""},
		{"NUL on line 2", "global\n    maxconn 1\x000\n", "cfg:2:14: NUL byte: this is not a text haproxy config (a binary file?)"},
		{"ELF header", "\x7fELF\x02\x01\x01\x00", "cfg:1:8: NUL byte"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Parse("cfg", []byte(tt.data))
			assert.Equal(t, tt.data, string(f.Render()))
			if tt.want == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}
