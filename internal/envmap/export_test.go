package envmap

// Get returns the value Ray will use for name: the value set, else Ray's
// default. It reports false when name is not in the [Table] or when it is
// unset and Ray then omits its directive.
func (e *Env) Get(name string) (string, bool) {
	s, ok := e.Setting(name)
	if !ok || !s.Set && s.Var.Omitted {
		return "", false
	}
	return s.Value, true
}
