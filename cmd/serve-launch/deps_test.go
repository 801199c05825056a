package main

import (
	"strings"
	"testing"

	"github.com/serve-launch/serve-launch/internal/testing/testenv"
	"github.com/stretchr/testify/assert"
)

// TestLinksNoPrometheusClient holds why internal/metrics writes the text
// format by hand: every package a Go binary links runs its init at every
// start, and client_golang's (its registry, protobuf, procfs) cost every
// serve-launch command milliseconds for the one that serves metrics. Its
// tests use Prometheus's parser; that must stay in the tests.
func TestLinksNoPrometheusClient(t *testing.T) {
	for _, dep := range testenv.Deps(t) {
		for _, bad := range []string{"github.com/prometheus/", "google.golang.org/protobuf/"} {
			assert.False(t, strings.HasPrefix(dep, bad), "serve-launch links %s", dep)
		}
	}
}
