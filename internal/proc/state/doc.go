//go:build linux

// Package state is serve-launch's state directory: one instance directory
// per generated configuration path, holding the patched copy haproxy runs,
// the instance record (instance.json, [Instance]), the event slot
// ([Events], a fixed-size file rewritten in place, which still records a
// start on a full disk), shim.log and a lock; the `bin/haproxy` link a Ray
// that runs plain `haproxy` finds first on PATH ([ShimDir]); and the
// [Guard] that keeps all this in place while the launcher runs.
//
// [Status] reads it back, with each instance's state (serving, degraded,
// wedged, dead, starting, stopped) told from the record, the event slot and
// /proc. Records are written without reflection (see marshalInstance): the
// shim writes one on every haproxy start.
//
// The directory is private (mode 0700, owned by the user, never a
// symlink); nothing in it is opened through a symlink, and every file is
// replaced atomically, so a reader never sees a partial file.
package state
