package main

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestLinksNoPrometheusClient holds why internal/metrics writes the text
// format by hand: every package a Go binary links runs its init at every
// start, and client_golang's (its registry, protobuf, procfs) cost every
// serve-launch command milliseconds for the one that serves metrics. Its
// tests use Prometheus's parser; that must stay in the tests.
func TestLinksNoPrometheusClient(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	require.NoError(t, err)
	for _, dep := range strings.Fields(string(out)) {
		for _, bad := range []string{"github.com/prometheus/", "google.golang.org/protobuf/"} {
			assert.False(t, strings.HasPrefix(dep, bad), "serve-launch links %s", dep)
		}
	}
}
