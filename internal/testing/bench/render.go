package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
)

// The sides of the render measurement.
const (
	SideRender  = "render"
	SideCheck   = "haproxy -c"
	SideCheckAA = "haproxy -c again"
)

// RenderResult is the render measurement at one config size: per side,
// each round's wall time in ms.
type RenderResult struct {
	Servers int
	Times   Rounds
}

// Share is render over `haproxy -c` per round; AA is `haproxy -c` again
// over `haproxy -c`, the A/A ratio.
func (r RenderResult) Share() (share, aa []float64) {
	return Ratios(r.Times[SideRender], r.Times[SideCheck]), Ratios(r.Times[SideCheckAA], r.Times[SideCheck])
}

// RenderVsCheck times `serve-launch render` (the whole process: start,
// load overrides.d, patch, print) against `haproxy -c` on the same
// generated file, and `haproxy -c` again as the A/A side, in rotating
// order, rounds times.
func (t *Tools) RenderVsCheck(ctx context.Context, servers, rounds int) (RenderResult, error) {
	res := RenderResult{Servers: servers, Times: Rounds{}}
	dir := filepath.Join(t.Work, fmt.Sprintf("render-%d", servers))
	cfg, err := WriteConfig(servers, ConfigOptions{Dir: dir})
	if err != nil {
		return res, err
	}
	devnull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		return res, err
	}
	defer devnull.Close()
	check := []string{t.HAProxy, "-c", "-q", "-f", cfg}
	argv := map[string][]string{
		SideRender:  {t.ServeLaunch, "render", "--config", cfg, "--overrides", t.Overrides},
		SideCheck:   check,
		SideCheckAA: check,
	}
	sides := []string{SideRender, SideCheck, SideCheckAA}
	// One untimed run of each fills the page cache for both.
	for _, side := range sides[:2] {
		if _, err := timeRun(ctx, argv[side], nil, devnull); err != nil {
			return res, err
		}
	}
	for i := range rounds {
		for _, k := range Order(i, len(sides)) {
			d, err := timeRun(ctx, argv[sides[k]], nil, devnull)
			if err != nil {
				return res, err
			}
			res.Times[sides[k]] = append(res.Times[sides[k]], Millis(d))
		}
	}
	return res, nil
}
