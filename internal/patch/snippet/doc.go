// Package snippet reads the override snippet format: one overrides.d TOML
// file, decoded strictly, bounded before it is decoded (prescanTOML, then
// the walk that records every value's line), and compiled into the
// [Edit]s and [Section]s the patch engine runs, each value with its
// file:line and its template. It also holds the rules of what a snippet
// line may say ([CheckLine], [SetProblem], [AddProblem]), which the engine
// applies again to a template's output, and the globs of selectors and
// deletes.
//
// It works on bytes: reading overrides.d is package load's. It imports
// config (the model) and tmpl (the template language), nothing else of
// serve-launch's.
package snippet
