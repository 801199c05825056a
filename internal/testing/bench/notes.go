package bench

// notes closes BENCHMARKS.md: what profiling by hand found, and what was
// tried. It is prose kept with the generator so that a rerun does not lose
// it; its numbers come from those sessions, never from the run above, and
// it draws no conclusion about the run above.
const notes = `## Notes from profiling (not from the run above)

TODO
`
