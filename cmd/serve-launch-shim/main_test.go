package main

import (
	"testing"

	"github.com/serve-launch/serve-launch/internal/testing/testenv"
	"github.com/stretchr/testify/assert"
)

// TestShimLinksNoLauncherDependencies holds the reason the shim is a
// program of its own: every package a Go binary links runs its init at
// every start, and the shim starts at every haproxy start Ray makes. The
// launcher's HTTP server, metrics client and CLI must stay out of it.
func TestShimLinksNoLauncherDependencies(t *testing.T) {
	deps := testenv.Deps(t)
	for _, bad := range []string{"net/http", "github.com/serve-launch/serve-launch/internal/metrics", "github.com/urfave/cli/v2", "github.com/fsnotify/fsnotify",
		"github.com/hashicorp/go-envparse", "github.com/serve-launch/serve-launch/internal/envmap", "github.com/serve-launch/serve-launch/internal/raycfg",
		"github.com/serve-launch/serve-launch/internal/proc/hotreload"} {
		assert.NotContains(t, deps, bad, "serve-launch-shim links %s", bad)
	}
}
