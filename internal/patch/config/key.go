package config

import "strings"

// keyWordCount says how many words of a directive form its key, for
// keywords whose key is longer than the keyword itself. A line's key decides
// which lines a `set` of it replaces: "timeout connect 5s" replaces
// "timeout connect 10s" but not "timeout client 1m". A switch, not a map:
// Parse asks it of every line.
func keyWordCount(keyword string) int {
	switch keyword {
	case "timeout", // timeout NAME
		"option",                                              // option NAME (and "no option NAME")
		"errorfile", "errorloc", "errorloc302", "errorloc303", // errorfile CODE
		"acl",                 // acl NAME
		"server",              // server NAME
		"server-template",     // server-template PREFIX
		"bind",                // bind ADDRESS
		"peer",                // peer NAME (peers)
		"nameserver",          // nameserver NAME (resolvers)
		"mailer",              // mailer NAME (mailers)
		"setenv", "presetenv", // setenv NAME
		"cpu-map",
		"compression", // compression algo|type|offload
		"email-alert",
		"h1-case-adjust",
		"stats": // stats enable, stats uri, stats refresh... (stats socket: 3)
		return 2
	}
	return 1
}

// listKeywords are ordered, cumulative rule lists: each line is a rule of its
// own, so they are edited with add, insert and delete, never with set.
var listKeywords = map[string]bool{
	"http-request": true, "http-response": true, "http-after-response": true,
	"tcp-request": true, "tcp-response": true, "use_backend": true, "use-server": true,
	"log": true, "http-check": true, "tcp-check": true, "redirect": true, "stick": true,
	"filter": true, "capture": true, "declare": true, "http-error": true,
	"lua-load": true, "lua-load-per-thread": true, "lua-prepend-path": true,
	"unsetenv": true, "force-persist": true, "ignore-persist": true, "monitor": true,
	"stats http-request": true, "stats auth": true,
}

// Key returns the key of a directive given its words, or "" for no words.
// "no option X" and "option X" share the key "option X"; "stats socket PATH"
// is keyed by its path; other keywords are keyed by the words keyWordCount says.
func Key(words []string) string {
	return strings.Join(keyWordsOf(words), " ")
}

// keyWordsOf returns the words that form the key of a directive.
func keyWordsOf(words []string) []string {
	if len(words) == 0 {
		return nil
	}
	if words[0] == "no" && len(words) > 1 {
		words = words[1:]
	}
	n := keyWordCount(words[0])
	if words[0] == "stats" && len(words) > 1 && words[1] == "socket" {
		n = 3
	}
	if n > len(words) {
		n = len(words)
	}
	return words[:n]
}

// KeyIn is Key(words) for words read from text: when the key's words stand
// in text separated by single spaces, as in every line Ray writes, the key
// is that part of text and costs no allocation.
func KeyIn(text string, words []string) string {
	if lo, hi, ok := keyRange(text, words); ok {
		return text[lo:hi]
	}
	return Key(words)
}

// keyRange places Key(words) in text: ok is false when its words do not
// stand there one space apart.
func keyRange(text string, words []string) (lo, hi int, ok bool) {
	kw := keyWordsOf(words)
	if len(kw) == 0 {
		return 0, 0, true
	}
	i := strings.Index(text, kw[0])
	if i < 0 {
		return 0, 0, false
	}
	j := i
	for n, w := range kw {
		if n > 0 {
			if j >= len(text) || text[j] != ' ' {
				return 0, 0, false
			}
			j++
		}
		if !strings.HasPrefix(text[j:], w) {
			return 0, 0, false
		}
		j += len(w)
	}
	return i, j, true
}

// Key is the line's key; "" for blank and comment lines.
func (l *Line) Key() string {
	if l.keyLo == keyOutside {
		var kw [4]string
		return Key(l.keyWords(&kw))
	}
	return l.Raw[l.keyLo:l.keyHi]
}

// IsListKey reports whether lines with this key form an ordered rule list.
func IsListKey(key string) bool {
	if listKeywords[key] {
		return true
	}
	first, _, _ := strings.Cut(key, " ")
	return listKeywords[first]
}

// IsList reports whether line l of section s is a rule of an ordered list:
// its keyword is a list keyword, or it is an acl whose name is repeated in
// the section (HAProxy ORs repeated acl lines together).
func (s *Section) IsList(l *Line) bool {
	key := l.Key()
	if IsListKey(key) {
		return true
	}
	if l.Keyword() == "acl" {
		n := 0
		for _, o := range s.Body {
			if o.Key() == key {
				n++
			}
		}
		return n > 1
	}
	return false
}
