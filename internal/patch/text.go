package patch

import "bytes"

// CheckText refuses a config holding a NUL byte: haproxy refuses it too
// ("Stray NUL character"), and it marks a binary file given by mistake, which
// would otherwise fail later with a confusing error about a snippet whose
// sections are missing.
func CheckText(name string, data []byte) error {
	i := bytes.IndexByte(data, 0)
	if i < 0 {
		return nil
	}
	line := bytes.Count(data[:i], []byte("\n")) + 1
	col := i - bytes.LastIndexByte(data[:i], '\n')
	return ErrorList{Errorf(Position{File: name, Line: line, Col: col}, "NUL byte: this is not a text haproxy config (a binary file?)")}
}
