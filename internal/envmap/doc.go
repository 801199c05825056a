// Package envmap describes the environment variables Ray Serve reads for its
// HAProxy mode, loads them from env files and the process environment, and
// checks them before Ray sees them.
//
// [Table] is the single source for help text, validation and docs/reference.md;
// with the variables of the known families ([All]), it is also the one
// source of Ray's defaults and of which Ray release reads what ([Release],
// [Var.ReadBy], [Var.DefaultIn]), for package raycfg's rendering too.
// [FromEnviron] turns an os.Environ-style list into a map.
// [Load] reads env files (the format of systemd EnvironmentFile and docker
// --env-file, parsed with go-envparse) and the process environment.
//
// Precedence, lowest first:
//  1. Ray's default;
//  2. each env file, in the order given (a later file wins over an earlier
//     one, and a later line over an earlier line of the same file);
//  3. the process environment, unless [Options.EnvFileWins] is set, in which
//     case the env files win over the process environment.
//
// A line "KEY=" (an empty value, quoted or not) means "unset KEY for Ray": Ray
// then uses its default, and [Env.ChildEnviron] removes KEY from the
// environment handed to Ray. An empty value in the process environment means
// the same, because Ray's int() would fail on it.
package envmap
