package snippet

import (
	"testing"

	"github.com/serve-launch/serve-launch/internal/patch/config"
	"github.com/stretchr/testify/assert"
)

// TestNumericProblem: the numbers snippets write for the limits haproxy
// reads with atol are checked against what haproxy takes, so that none
// wraps around or reads as 0 (no limit).
func TestNumericProblem(t *testing.T) {
	tests := []struct {
		name string
		line string
		want string // "" when haproxy reads the line as written
	}{
		{name: "maxconn", line: "maxconn 20000"},
		{name: "maxconn zero", line: "maxconn 0"},
		{name: "maxconn at int's limit", line: "maxconn 2147483647"},
		{name: "maxconn past int", line: "maxconn 2147483648", want: "maxconn 2147483648 is out of range: haproxy takes a whole number from 0 to 2147483647 here"},
		{name: "maxconnrate negative", line: "maxconnrate -2", want: "maxconnrate -2 is out of range: haproxy takes a whole number from 0 to 4294967295 here, and would read this one wrapped around, or as 0 (no limit)"},
		{name: "maxconnrate at unsigned's limit", line: "maxconnrate 4294967295"},
		{name: "maxsessrate wrapping to 0", line: "maxsessrate 4294967296", want: "maxsessrate 4294967296 is out of range"},
		{name: "maxsessrate a word", line: "maxsessrate lots", want: "maxsessrate lots is out of range"},
		{name: "maxconn from haproxy's environment", line: `maxconn "${MAXCONN}"`},
		{name: "server maxconn", line: "server a 127.0.0.1:1 check maxconn 32"},
		{name: "server maxconn negative", line: "server a 127.0.0.1:1 maxconn -1 check", want: "server maxconn -1 is out of range: haproxy takes a whole number from 0 to 2147483647"},
		{name: "default-server maxconn", line: "default-server maxconn 99999999999", want: "default-server maxconn 99999999999 is out of range"},
		{name: "server-template maxconn", line: "server-template s 1-3 app.local:80 maxconn 4294967296", want: "server-template maxconn 4294967296 is out of range"},
		{name: "timeout", line: "timeout client 3600s"},
		{name: "timeout at haproxy's limit", line: "timeout server 2147483647"},
		{name: "timeout past it", line: "timeout server 2147484s", want: "timeout server 2147484s is out of range: haproxy takes a time of at most 2147483647ms (about 24.8 days)"},
		{name: "timeout in days", line: "timeout queue 25d", want: "timeout queue 25d is out of range"},
		{name: "timeout overflowing", line: "timeout connect 99999999999999999999999d", want: "timeout connect 99999999999999999999999d is out of range"},
		{name: "timeout in microseconds", line: "timeout connect 2147483647000us"},
		{name: "timeout no time is haproxy's to name", line: "timeout client forever"},
		{name: "other keywords", line: "nbthread -5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := config.Tokenize(tt.line)
			assert.NoError(t, err)
			got := numericProblem(tok.Words)
			if tt.want == "" {
				assert.Empty(t, got)
				return
			}
			assert.Contains(t, got, tt.want)
		})
	}
}
