package raycfg

import (
	"fmt"
	"strings"

	"github.com/serve-launch/serve-launch/internal/envmap"
)

// Shape names a generation of Ray's haproxy template.
// Each is the template of one [envmap.Release], and spelt the same.
type Shape string

const (
	// ShapeV1 is the first OSS template (PR #60586): `balance leastconn` in
	// every backend, no TCP_NODELAY.
	ShapeV1 = Shape(envmap.ReleaseV1)
	// Shape255 is the best reconstruction of Ray 2.55: V1 plus
	// `option http-no-delay` (RAY_SERVE_HAPROXY_TCP_NODELAY=1) and
	// `balance <RAY_SERVE_HAPROXY_BALANCE_ALGORITHM>` as the last defaults
	// line, placed where #61988 put it (the backends lose their own balance).
	Shape255 = Shape(envmap.Release255)
	// ShapeMaster is master of late May 2026 ("F"): one log line, tune.bufsize,
	// splice options, the ingress request router and gRPC.
	ShapeMaster = Shape(envmap.ReleaseMaster)
)

// ParseShape accepts "2.55", "v1" and "master" (also "F").
func ParseShape(s string) (Shape, error) {
	switch strings.ToLower(s) {
	case "2.55", "":
		return Shape255, nil
	case "v1":
		return ShapeV1, nil
	case "master", "f":
		return ShapeMaster, nil
	}
	return "", fmt.Errorf("unknown shape %q (want 2.55, v1 or master)", s)
}

// ShapeFor returns the shape of Ray release r: its own template, or for a
// release with none (master of June 2026, which added retry-on and option
// redispatch 1 to defaults) the newest template before it. The zero value
// is 2.55's.
func ShapeFor(r envmap.Release) Shape {
	switch r {
	case envmap.ReleaseV1:
		return ShapeV1
	case envmap.ReleaseMaster, envmap.ReleaseMasterJune:
		return ShapeMaster
	}
	return Shape255
}

// release is the Ray release whose template the shape is, for the defaults
// and versions in envmap's table.
func (s Shape) release() envmap.Release { return envmap.Release(s) }
