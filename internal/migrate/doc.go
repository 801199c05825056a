// Package migrate turns a hand-tuned haproxy.cfg into what serve-launch lays
// over Ray's generated config: an env file of RAY_SERVE_HAPROXY_* variables
// for the settings Ray has a variable for, an override snippet for the rest,
// and a report that says, setting by setting, how each one was carried over
// or why it was not.
//
// Their sections map onto Ray's: global and defaults onto Ray's global and
// defaults; the backends and listens holding their replica servers onto Ray's
// application backends (`backend *` except default_backend); the frontend that
// routes to those backends onto Ray's http_frontend, only for settings that
// cannot change Ray's routing. Everything else is reported as not carried.
//
// Both configs are read with the patch model (config); the snippet written
// is verified by loading it (snippet) and applying it (patch) to Ray's
// config, and checked with haproxy -c (hapcheck). Ray's variables are
// envmap's and Ray's config shape raycfg's.
package migrate
