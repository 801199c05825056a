package build

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/serve-launch/serve-launch/internal/patch/load"
	"github.com/serve-launch/serve-launch/internal/proc/shim"
	"github.com/serve-launch/serve-launch/internal/proc/state"
	"github.com/serve-launch/serve-launch/internal/testing/testenv"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPatcherUsesRayEnvironment: a hot reload must render `env` from Ray's
// environment (env files applied), not the launcher's, or values set only in
// an env file would change at the first reload.
func TestPatcherUsesRayEnvironment(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "10-node.toml"),
		[]byte("[[edit]]\nsection = \"global\"\nset = [\"maxconnrate {{ env \\\"SERVE_LAUNCH_TEST_ONLY_RATE\\\" }}\"]\n"), 0o600))
	o, err := load.Dir(dir, load.Options{})
	require.NoError(t, err)
	_, inProcessEnv := os.LookupEnv("SERVE_LAUNCH_TEST_ONLY_RATE")
	require.False(t, inProcessEnv)
	patcher := ReloadPatcher(o, nil, true, lookup([]string{"SERVE_LAUNCH_TEST_ONLY_RATE=77"}), shim.OnPatchErrorQuarantine, t.TempDir())
	res := patcher(context.Background(), shim.PatchRequest{Name: "gen.cfg", Generated: []byte("global\n    maxconn 10\n")})
	assert.Empty(t, res.Unpatched)
	assert.Empty(t, res.Quarantined)
	assert.Equal(t, "global\n    maxconn 10\n    maxconnrate 77\n", string(res.Bytes()))
	// What the hot reload records for that patch.
	data, err := os.ReadFile(filepath.Join(dir, "10-node.toml"))
	require.NoError(t, err)
	sum := sha256.Sum256(data)
	assert.Equal(t, []state.Snippet{{Name: "10-node.toml", SHA256: hex.EncodeToString(sum[:])}}, res.Snippets)
}

// TestShimPatchesWithSnippetsAsOfTheLock: the shim loads its patcher when it
// starts, then may wait seconds (for the haproxy it replaces to finish
// starting, then for the instance lock) before it patches, and a hot reload
// can run to completion in that window. The shim must patch with the
// snippets as they are once it holds the instance lock: with snippets loaded
// earlier it would exec haproxy on what the hot reload already replaced, and
// nothing would reload it again.
func TestShimPatchesWithSnippetsAsOfTheLock(t *testing.T) {
	overrides := t.TempDir()
	snippet := filepath.Join(overrides, "10-rate.toml")
	write := func(rate string) {
		require.NoError(t, os.WriteFile(snippet,
			[]byte("[[edit]]\nsection = \"global\"\nset = [\"maxconnrate "+rate+"\"]\n"), 0o600))
	}
	write("10")
	// A hidden file is no snippet (load.Dir skips it): the record must
	// not list it either.
	require.NoError(t, os.WriteFile(filepath.Join(overrides, ".10-rate.toml"), []byte("junk"), 0o600))
	sd, err := state.OpenStateDir(filepath.Join(t.TempDir(), "state"))
	require.NoError(t, err)
	cfg := filepath.Join(t.TempDir(), "haproxy.cfg")
	// haproxy -c checks what the shim starts: it needs a listener.
	const rest = "frontend f\n    bind 127.0.0.1:1\n"
	require.NoError(t, os.WriteFile(cfg, []byte("global\n    maxconn 10\n"+rest), 0o600))

	// A hot reload holds the instance lock, as reloadOne does.
	inst := filepath.Join(sd.Path(), state.InstanceID([]string{cfg}))
	require.NoError(t, os.Mkdir(inst, 0o700))
	lock, err := os.OpenFile(filepath.Join(inst, "lock"), os.O_RDWR|os.O_CREATE, 0o600)
	require.NoError(t, err)
	defer lock.Close()
	require.NoError(t, syscall.Flock(int(lock.Fd()), syscall.LOCK_EX))

	// The shim starts as cmd/serve-launch's runShim starts it.
	real := testenv.HAProxy(t)
	patcher := ShimPatcher(shim.ShimEnv{OverridesDir: overrides, NoProvenance: true, StateDir: sd.Path()}, real)
	var execd []string
	done := make(chan error, 1)
	go func() {
		done <- shim.RunShim(context.Background(), shim.ShimConfig{
			Argv: []string{"-db", "-f", cfg}, RealHAProxy: real, StateDir: sd.Path(),
			Patcher: patcher, OverridesDir: overrides,
			Exec: func(_ string, argv, _ []string) error { execd = argv; return nil },
		})
	}()
	write("20") // the edit the hot reload applies
	require.NoError(t, syscall.Flock(int(lock.Fd()), syscall.LOCK_UN))
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(2 * state.LockWait):
		t.Fatal("the shim did not finish")
	}
	require.NotEmpty(t, execd, "the shim exec'd haproxy")
	patched, err := os.ReadFile(filepath.Join(inst, state.PatchedFile))
	require.NoError(t, err)
	assert.Equal(t, "global\n    maxconn 10\n    maxconnrate 20\n"+rest, string(patched))
	// The record names the snippet as it was applied.
	ins, err := state.Status(sd)
	require.NoError(t, err)
	require.Len(t, ins, 1)
	data, err := os.ReadFile(snippet)
	require.NoError(t, err)
	sum := sha256.Sum256(data)
	assert.Equal(t, []state.Snippet{{Name: "10-rate.toml", SHA256: hex.EncodeToString(sum[:])}}, ins[0].Snippets)
}

// TestShimPatcherLoadErrors: what the shim cannot load never fails a start:
// a bad file is left out (quarantined) with what is wrong, a directory that
// cannot be read leaves every snippet out, and haproxy runs the rest.
func TestShimPatcherLoadErrors(t *testing.T) {
	good := "[[edit]]\nsection = \"global\"\nset = [\"maxconnrate 5\"]\n"
	cases := []struct {
		name        string
		setup       func(t *testing.T) string
		unpatched   string
		quarantined string
	}{
		{name: "directory removed", unpatched: "overrides directory", setup: func(t *testing.T) string {
			return filepath.Join(t.TempDir(), "gone")
		}},
		{name: "broken TOML", quarantined: "10-bad.toml", setup: func(t *testing.T) string {
			dir := t.TempDir()
			require.NoError(t, os.WriteFile(filepath.Join(dir, "10-bad.toml"), []byte("[[edit]\n"), 0o600))
			require.NoError(t, os.WriteFile(filepath.Join(dir, "20-good.toml"), []byte(good), 0o600))
			return dir
		}},
		{name: "group-writable snippet", quarantined: "chmod go-w", setup: func(t *testing.T) string {
			dir := t.TempDir()
			p := filepath.Join(dir, "10-a.toml")
			require.NoError(t, os.WriteFile(p, []byte("[[edit]]\nsection = \"global\"\nset = [\"maxconnrate 9\"]\n"), 0o600))
			require.NoError(t, os.Chmod(p, 0o664))
			require.NoError(t, os.WriteFile(filepath.Join(dir, "20-good.toml"), []byte(good), 0o600))
			return dir
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			patcher := ShimPatcher(shim.ShimEnv{OverridesDir: c.setup(t), NoProvenance: true}, "")
			gen := []byte("global\n    maxconn 10\n")
			res := patcher(context.Background(), shim.PatchRequest{Name: "gen.cfg", Generated: gen})
			if c.unpatched != "" {
				assert.Contains(t, res.Unpatched, c.unpatched)
				assert.Equal(t, string(gen), string(res.Bytes()), "Ray's config runs as it is")
				assert.Empty(t, res.Snippets, "nothing was applied")
				return
			}
			assert.Empty(t, res.Unpatched)
			require.Len(t, res.Quarantined, 1)
			assert.Contains(t, res.Quarantined[0].Error, c.quarantined)
			assert.Equal(t, "global\n    maxconn 10\n    maxconnrate 5\n", string(res.Bytes()), "the good snippet applies")
			require.Len(t, res.Snippets, 1)
			assert.Equal(t, "20-good.toml", res.Snippets[0].Name)
		})
	}
}

// TestShimPatcherListsWhatItApplied: the record's snippet list comes from
// the load the patch used, not from reading the directory again, so an edit
// right after the patch does not put a digest of content that was never
// applied into the record.
func TestShimPatcherListsWhatItApplied(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "10-rate.toml")
	applied := []byte("[[edit]]\nsection = \"global\"\nset = [\"maxconnrate 10\"]\n")
	require.NoError(t, os.WriteFile(p, applied, 0o600))
	patcher := ShimPatcher(shim.ShimEnv{OverridesDir: dir, NoProvenance: true}, "")
	res := patcher(context.Background(), shim.PatchRequest{Name: "gen.cfg", Generated: []byte("global\n    maxconn 10\n")})
	assert.Equal(t, "global\n    maxconn 10\n    maxconnrate 10\n", string(res.Bytes()))
	require.NoError(t, os.WriteFile(p, []byte("[[edit]]\nsection = \"global\"\nset = [\"maxconnrate 99\"]\n"), 0o600))
	sum := sha256.Sum256(applied)
	assert.Equal(t, []state.Snippet{{Name: "10-rate.toml", SHA256: hex.EncodeToString(sum[:])}}, res.Snippets)
}
