// Package hapcheck runs `haproxy -c` on a patched config and maps each
// ALERT and WARNING that names a line back to where that line came from:
// the generated file's line, or the snippet file:line that wrote it. It
// also explains an alert that only says the haproxy at hand is older than
// the HAProxy the snippets are meant for (VersionExplainer).
//
// It is the one place serve-launch runs haproxy -c: the launcher's
// preflight, the shim's check of new snippet lines, and the commands that
// check a config all call it. It imports config and hapkw.
package hapcheck
