//go:build linux

package procfs_test

import (
	"testing"

	"github.com/serve-launch/serve-launch/internal/proc/internal/proctest"
)

func TestMain(m *testing.M) { proctest.Main(m) }
