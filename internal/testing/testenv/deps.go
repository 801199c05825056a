package testenv

import (
	"os/exec"
	"strings"
	"testing"
)

// Deps lists every package the package in the current directory links
// (go list -deps): the tests that hold a program's imports read it.
func Deps(t testing.TB) []string {
	t.Helper()
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	return strings.Fields(string(out))
}
