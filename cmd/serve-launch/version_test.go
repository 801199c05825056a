package main

import (
	"runtime/debug"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestBuildVersion(t *testing.T) {
	info := func(v string, ok bool) func() (*debug.BuildInfo, bool) {
		return func() (*debug.BuildInfo, bool) { return &debug.BuildInfo{Main: debug.Module{Version: v}}, ok }
	}
	for _, tc := range []struct {
		name, stamped, module string
		ok                    bool
		want                  string
	}{
		{"stamped wins", "v1.2.3-4-gabc", "v1.2.3", true, "v1.2.3-4-gabc"},
		{"go install @version", "dev", "v1.2.3", true, "v1.2.3"},
		{"a build in a checkout", "dev", "(devel)", true, "dev"},
		{"no build info", "dev", "", false, "dev"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, buildVersion(tc.stamped, info(tc.module, tc.ok)))
		})
	}
}
