package envmap

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestFromEnviron(t *testing.T) {
	tests := []struct {
		name    string
		environ []string
		want    map[string]string
	}{
		{"empty", nil, map[string]string{}},
		{"values", []string{"A=1", "B=", "C=x=y"}, map[string]string{"A": "1", "B": "", "C": "x=y"}},
		{"later wins", []string{"A=1", "A=2"}, map[string]string{"A": "2"}},
		{"no equals skipped", []string{"A", "B=2"}, map[string]string{"B": "2"}},
		{"empty name kept", []string{"=C:"}, map[string]string{"": "C:"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, FromEnviron(tc.environ))
		})
	}
}
