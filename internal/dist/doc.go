// Package dist writes serve-launch's release artifacts, the way Ray ships
// its own haproxy: static binaries of both programs for linux/amd64 and
// linux/arm64, a tarball of each pair, Python wheels (manylinux x86_64 and
// aarch64) that install both programs into a virtualenv's bin/ as ruff and
// uv ship theirs, and a SHA256SUMS of them all.
//
// Nothing is downloaded: the Go toolchain at hand builds (with the module
// proxy and toolchain downloads turned off, so a missing module fails the
// build instead of fetching it), and the standard library writes the
// archives. The wheel writer is a few pages of this package rather than a
// Python build backend: a wheel whose payload is two executables needs a
// zip, three metadata files and their digests (PEP 427, PEP 491), nothing
// a backend would add.
//
// scripts/dist is the command (`make dist`); internal/testing/dist
// installs what it builds into a fresh virtualenv.
package dist
