package main

import "runtime/debug"

func init() { version = buildVersion(version, debug.ReadBuildInfo) }

// buildVersion is the version --version prints: the one stamped at build
// time (make build, make dist), else the module version the go command
// recorded, which `go install github.com/serve-launch/serve-launch/cmd/...@v1.2.3`
// sets and a build in a checkout leaves "(devel)".
func buildVersion(stamped string, read func() (*debug.BuildInfo, bool)) string {
	if stamped != "dev" {
		return stamped
	}
	if bi, ok := read(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return stamped
}
