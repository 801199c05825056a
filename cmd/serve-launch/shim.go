package main

import (
	"context"
	"path/filepath"
)

// isShim reports whether this process was started as the haproxy shim.
func isShim(args []string) bool {
	return len(args) > 0 && filepath.Base(args[0]) == "haproxy"
}

func runShim(ctx context.Context, args []string, out *output) int {
	out.errorf("haproxy shim: not yet implemented")
	return 1
}
