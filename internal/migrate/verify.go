package migrate

import (
	"context"
	"maps"
	"os"
	"path/filepath"

	"github.com/serve-launch/serve-launch/internal/patch"
	"github.com/serve-launch/serve-launch/internal/patch/config"
	"github.com/serve-launch/serve-launch/internal/patch/hapcheck"
	"github.com/serve-launch/serve-launch/internal/patch/snippet"
	"github.com/serve-launch/serve-launch/internal/raycfg"
)

// Verify loads the snippet and applies it to Ray's config: the given
// generated config, or Ray's 2.55 shape rendered with the env file. It
// returns the patched config, so a caller can go on to haproxy -c.
func (r *Result) Verify() (*config.File, error) { return r.Apply(nil) }

// Apply is Verify with extra variables for rendering Ray's shape, such as
// paths that exist on this machine; they are ignored when the generated
// config was given rather than rendered.
func (r *Result) Apply(extra map[string]string) (*config.File, error) {
	gen := r.Generated
	var err error
	if r.Rendered {
		env := r.EnvMap()
		maps.Copy(env, extra)
		if gen, err = RenderDefault(r.Servers, env); err != nil {
			return nil, err
		}
	}
	f, err := config.Parse(r.GeneratedName, gen)
	if err != nil {
		return nil, err
	}
	if !r.HasSnippet() {
		return f, nil
	}
	sn, err := snippet.Load(SnippetName, r.Snippet())
	if err != nil {
		return nil, err
	}
	// No Getenv: the snippet migrate writes calls no env.
	if err := (&patch.Overrides{Snippets: []*snippet.Snippet{sn}}).Apply(f, patch.ApplyOptions{}); err != nil {
		return nil, err
	}
	return f, nil
}

// Check runs `haproxy -c` (haproxy, a path) on verified, the config Verify
// returned. When that config was rendered from Ray's defaults rather than
// given, it is rendered again for the check in a temporary directory that
// holds the 500.http its errorfile lines name, as Ray's constructor would
// write it, and the directory is removed afterwards.
func (r *Result) Check(ctx context.Context, haproxy string, verified *config.File) (*hapcheck.Result, error) {
	if !r.Rendered {
		return hapcheck.Check(ctx, haproxy, verified)
	}
	tmp, err := os.MkdirTemp("", "serve-launch-migrate-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	cfg := filepath.Join(tmp, "haproxy.cfg")
	if err := os.WriteFile(raycfg.ErrorFilePath(cfg), []byte(raycfg.ErrorFileContent), 0o600); err != nil {
		return nil, err
	}
	f, err := r.Apply(map[string]string{"RAY_SERVE_HAPROXY_CONFIG_FILE_LOC": cfg})
	if err != nil {
		return nil, err
	}
	return hapcheck.Check(ctx, haproxy, f)
}
