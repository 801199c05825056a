package patch_test

import (
	"fmt"
	"testing"

	"github.com/serve-launch/serve-launch/internal/patch"
	"github.com/serve-launch/serve-launch/internal/patch/config"
	"github.com/serve-launch/serve-launch/internal/patch/load"
	"github.com/serve-launch/serve-launch/internal/testing/bench"
)

// The Shape255 benchmarks time what the shim does on every haproxy start, on
// configs in Ray 2.55's shape (raycfg.Render) with the repository's
// overrides.d: parse, apply, render, and the three together (Patch). Run them
// with `make bench`, which also divides ns/op by the server count to show the
// cost per server stays flat as configs grow.

const overridesDir = "../../overrides.d"

// eachSize runs body as the sub-benchmark servers=N for every config size
// in bench.EngineSizes, given that config. The config is generated off the clock;
// bytes per op are its size, so ns/op and MB/s compare across sizes.
func eachSize(b *testing.B, body func(b *testing.B, data []byte)) {
	for _, n := range bench.EngineSizes {
		b.Run(fmt.Sprintf("servers=%d", n), func(b *testing.B) {
			data, err := bench.Config(n, bench.ConfigOptions{Dir: "/tmp/haproxy-serve"})
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			b.ResetTimer()
			body(b, data)
		})
	}
}

func loadRepoOverrides(b *testing.B) *patch.Overrides {
	b.Helper()
	o, err := load.Dir(overridesDir, load.Options{})
	if err != nil {
		b.Fatal(err)
	}
	if len(o.Snippets) == 0 {
		b.Fatalf("no snippets in %s", overridesDir)
	}
	return o
}

func BenchmarkShape255Parse(b *testing.B) {
	eachSize(b, func(b *testing.B, data []byte) {
		for b.Loop() {
			if _, err := config.Parse("haproxy.cfg", data); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkShape255Apply(b *testing.B) {
	o := loadRepoOverrides(b)
	eachSize(b, func(b *testing.B, data []byte) {
		// Apply edits the file in place, so each round needs a fresh
		// parse, kept off the clock.
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			f, err := config.Parse("haproxy.cfg", data)
			if err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			if err := o.Apply(f, patch.ApplyOptions{}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkShape255Render(b *testing.B) {
	o := loadRepoOverrides(b)
	eachSize(b, func(b *testing.B, data []byte) {
		f, err := config.Parse("haproxy.cfg", data)
		if err != nil {
			b.Fatal(err)
		}
		if err := o.Apply(f, patch.ApplyOptions{}); err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			if len(f.Render()) == 0 {
				b.Fatal("empty render")
			}
		}
	})
}

// BenchmarkShape255Patch is the whole in-process cost of one shim start:
// parse, apply and render.
func BenchmarkShape255Patch(b *testing.B) {
	o := loadRepoOverrides(b)
	eachSize(b, func(b *testing.B, data []byte) {
		for b.Loop() {
			if _, err := o.Patch("haproxy.cfg", data, patch.ApplyOptions{}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkLoadRepoOverrides is the other in-process part of every shim
// start: loading and validating overrides.d (TOML and templates).
func BenchmarkLoadRepoOverrides(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := load.Dir(overridesDir, load.Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
