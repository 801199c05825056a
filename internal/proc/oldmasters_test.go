package proc

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestWithMorePIDs(t *testing.T) {
	tests := []struct {
		name string
		argv []string
		pids []int
		want []string
	}{
		{name: "none to add", argv: []string{"-W", "-db", "-f", "p.cfg", "-sf", "10"}, want: []string{"-W", "-db", "-f", "p.cfg", "-sf", "10"}},
		{name: "at the end", argv: []string{"-W", "-db", "-f", "p.cfg", "-sf", "10"}, pids: []int{7, 8},
			want: []string{"-W", "-db", "-f", "p.cfg", "-sf", "10", "7", "8"}},
		{name: "before -x", argv: []string{"-W", "-db", "-f", "p.cfg", "-dR", "-sf", "10", "-x", "admin.sock"}, pids: []int{7},
			want: []string{"-W", "-db", "-f", "p.cfg", "-dR", "-sf", "10", "7", "-x", "admin.sock"}},
		{name: "-st too", argv: []string{"-f", "p.cfg", "-st", "10", "11"}, pids: []int{7},
			want: []string{"-f", "p.cfg", "-st", "10", "11", "7"}},
		{name: "no reload", argv: []string{"-W", "-db", "-f", "p.cfg"}, pids: []int{7}, want: []string{"-W", "-db", "-f", "p.cfg"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			argv := append([]string{}, tt.argv...)
			assert.Equal(t, tt.want, withMorePIDs(argv, tt.pids))
			assert.Equal(t, tt.argv, argv, "the input is not modified")
		})
	}
}

func TestOlderMastersIgnoresOtherProcesses(t *testing.T) {
	// No haproxy runs this file: nothing to add, whatever else runs.
	assert.Empty(t, olderMasters([]string{"/nonexistent/serve-launch-test/patched.cfg"}, []string{"1"}))
}
