package main

import (
	"regexp"
	"slices"
	"strings"
)

// A keyword found in one manual: its context (one of the hapkw contexts,
// spelled as in the table) and its name.
type found struct{ context, name string }

// proxyDocumented is the context of a proxy keyword's header in the
// reference (4.2). It is no keyword of the table by itself: a header's
// literal words are not always the keyword ("log global"), so proxy
// keywords come from the matrix. But a keyword the matrix of a later manual
// leaves out while its reference still documents it (a deprecated option)
// was not removed.
const proxyDocumented = "proxy-documented"

// sectionRE matches a numbered section title, "4.2. Alphabetically sorted
// keywords reference". The table of contents repeats every title; a title
// in the text is underlined with dashes on the next line.
var sectionRE = regexp.MustCompile(`^(\d+(?:\.\d+)*)\.\s+(\S.*?)\s*$`)

// headerWordRE is the first word of a keyword's header line: lower case
// letters, digits and "._-", optionally followed by an argument list in
// parentheses ("sc-inc-gpc0(<sc-id>)", "set-proxy-v2-tlv-fmt(<id>)").
var headerWordRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]*(\(\S*)?$`)

// section is a numbered section of a manual: lines [start, end).
type section struct {
	number, title string
	start, end    int
}

// sections finds the numbered sections of a manual's text, in order, each
// ending where the next begins.
func sections(lines []string) []section {
	var out []section
	for i := 0; i+1 < len(lines); i++ {
		m := sectionRE.FindStringSubmatch(lines[i])
		if m == nil || !strings.HasPrefix(lines[i+1], "---") {
			continue
		}
		if n := len(out); n > 0 {
			out[n-1].end = i
		}
		out = append(out, section{number: m[1], title: m[2], start: i + 2, end: len(lines)})
	}
	return out
}

// sectionLines returns the lines of the sections whose title is one of
// titles, below the top-level section top ("3").
func sectionLines(lines []string, secs []section, top string, titles ...string) [][]string {
	var out [][]string
	for _, s := range secs {
		if strings.HasPrefix(s.number, top+".") && slices.Contains(titles, s.title) {
			out = append(out, lines[s.start:s.end])
		}
	}
	return out
}

// headerGroups returns the keyword headers of a reference section: runs of
// lines at column 0 that start with a keyword, follow a blank line, and are
// followed by an indented line (the description), or by a blank line and
// then one. Prose at column 0 starts
// with a capital, follows another line of prose, or is followed by one.
func headerGroups(lines []string) [][]int {
	var groups [][]int
	for i := 0; i < len(lines); i++ {
		if !isHeader(lines[i]) || (i > 0 && strings.TrimSpace(lines[i-1]) != "") {
			continue
		}
		// A header's arguments may go on over lines indented under them;
		// more headers may follow those.
		j := i
		for k := j + 1; k < len(lines); k++ {
			if isHeader(lines[k]) {
				j = k
			} else if !strings.HasPrefix(lines[k], "    ") {
				break
			}
		}
		// The description may come after one blank line.
		next := j + 1
		if next < len(lines) && lines[next] == "" {
			next++
		}
		if next < len(lines) && strings.HasPrefix(lines[next], " ") {
			g := make([]int, 0, j-i+1)
			for k := i; k <= j; k++ {
				g = append(g, k)
			}
			groups = append(groups, g)
		}
		i = j
	}
	return groups
}

func isHeader(line string) bool {
	if line == "" || line[0] == ' ' || line[0] == '\t' || sectionRE.MatchString(line) {
		return false
	}
	first, _, _ := strings.Cut(line, " ")
	return headerWordRE.MatchString(first)
}

// keywordOf is the keyword a header line documents: its words up to the
// first argument (a word with <, [, {, |, (, quotes or *). "stats socket
// [<address:port>|<path>] [param*]" documents "stats socket".
func keywordOf(header string) string {
	var kw []string
	for _, w := range strings.Fields(header) {
		if strings.ContainsAny(w, `<[{|("'*,:`) {
			if len(kw) == 0 {
				// "sc-inc-gpc0(<sc-id>)": the name before the parenthesis.
				if i := strings.IndexByte(w, '('); i > 0 {
					kw = append(kw, w[:i])
				}
			}
			break
		}
		kw = append(kw, w)
	}
	return strings.Join(kw, " ")
}

// firstWord is a parameter's or action's name: the first word of its
// header, without an argument list in parentheses.
func firstWord(header string) string {
	w, _, _ := strings.Cut(header, " ")
	w, _, _ = strings.Cut(w, "(")
	return w
}

// validName refuses what is a placeholder rather than a name ("lua.<name>"
// gives "lua.").
func validName(name string) bool {
	return name != "" && !strings.HasSuffix(name, ".") && !strings.ContainsAny(name, "<>")
}

// parseManual finds the keywords a manual documents in the contexts a
// snippet writes: global keywords (the keyword headers of section 3's
// process, tuning, debugging and HTTP client subsections), proxy keywords
// (the matrix of 4.1), bind and server parameters (the headers of 5.1 and
// 5.2), and http-request, http-response and http-after-response actions
// (headers "http-request ACTION ..." of 4.2 up to 2.8; from 3.0 the
// actions matrix of 4.3 and the "Usable in" table of each action in 4.4,
// since each leaves out a few the other has).
func parseManual(text string) []found {
	lines := strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n")
	secs := sections(lines)
	var out []found
	add := func(context, name string) {
		if validName(name) {
			out = append(out, found{context, name})
		}
	}
	for _, body := range sectionLines(lines, secs, "3",
		"Process management and security", "Performance tuning", "Debugging", "HTTPClient tuning") {
		for _, g := range headerGroups(body) {
			for _, i := range g {
				add("global", keywordOf(body[i]))
			}
		}
	}
	for _, body := range sectionLines(lines, secs, "4", "Proxy keywords matrix") {
		for _, kw := range matrixKeywords(body) {
			add("proxy", kw)
		}
	}
	for _, body := range sectionLines(lines, secs, "4", "Alphabetically sorted keywords reference") {
		for _, g := range headerGroups(body) {
			for _, i := range g {
				words := strings.Fields(body[i])
				switch {
				case len(words) < 2:
				case words[0] == "http-request" || words[0] == "http-response" || words[0] == "http-after-response":
					add(words[0], firstWord(words[1]))
				case words[0] == "no":
					add(proxyDocumented, keywordOf(strings.Join(words[1:], " ")))
				}
				add(proxyDocumented, keywordOf(body[i]))
			}
		}
	}
	for _, body := range sectionLines(lines, secs, "4", "Actions keywords matrix") {
		for _, a := range matrixActions(body) {
			add(a.context, a.name)
		}
	}
	for _, body := range sectionLines(lines, secs, "4", "Alphabetically sorted actions reference") {
		for _, a := range usableActions(body) {
			add(a.context, a.name)
		}
	}
	for _, body := range sectionLines(lines, secs, "5", "Bind options") {
		for _, g := range headerGroups(body) {
			for _, i := range g {
				add("bind", firstWord(body[i]))
			}
		}
	}
	for _, body := range sectionLines(lines, secs, "5", "Server and default-server options") {
		for _, g := range headerGroups(body) {
			for _, i := range g {
				add("server", firstWord(body[i]))
			}
		}
	}
	return out
}

// matrixMarks are the words of a proxy matrix row that are not the
// keyword: the four columns and the notes beside the keyword.
var matrixMarks = map[string]bool{"X": true, "-": true, "(!)": true, "(*)": true, "(deprecated)": true}

// matrixKeywords reads the rows of the proxy keywords matrix: a keyword of
// one or more words, then a mark for each of defaults, frontend, listen and
// backend.
func matrixKeywords(body []string) []string {
	var out []string
	for _, line := range body {
		if line == "" || line[0] == ' ' || line[0] == '-' {
			continue
		}
		words := strings.Fields(line)
		marks, kw := 0, []string{}
		for _, w := range words {
			switch {
			case w == "X" || w == "-":
				marks++
			case matrixMarks[w]:
			case marks == 0:
				kw = append(kw, w)
			}
		}
		if marks == 4 && len(kw) > 0 {
			out = append(out, strings.Join(kw, " "))
		}
	}
	return out
}

// usableActions reads the action reference of 3.0 and later: each header
// group is followed by "Usable in: ... HTTP Req| Res| Aft" and a row of X
// and -, whose last three columns say whether http-request, http-response
// and http-after-response take the action.
func usableActions(body []string) []found {
	var out []found
	for _, g := range headerGroups(body) {
		// The header's arguments may go on over indented lines before
		// the table.
		usable := -1
		for i := g[len(g)-1] + 1; i < len(body)-1 && i <= g[len(g)-1]+8; i++ {
			if strings.Contains(body[i], "Usable in:") {
				usable = i
				break
			}
		}
		if usable < 0 {
			continue
		}
		cols := strings.Split(body[usable+1], "|")
		if len(cols) < 3 {
			continue
		}
		cols = cols[len(cols)-3:]
		for _, i := range g {
			for c, ctx := range httpRuleSets {
				if strings.TrimSpace(cols[c]) == "X" {
					out = append(out, found{ctx, firstWord(body[i])})
				}
			}
		}
	}
	return out
}

// httpRuleSets are the rule sets whose actions the table records, in the
// order of the last three columns of the actions matrix and of the "Usable
// in" tables.
var httpRuleSets = []string{"http-request", "http-response", "http-after-response"}

// matrixActions reads the rows of the actions matrix (3.0 and later): an
// action, then X or - for each rule set, the last three being http-request,
// http-response and http-after-response.
func matrixActions(body []string) []found {
	var out []found
	for _, line := range body {
		if line == "" || line[0] == ' ' || line[0] == '-' {
			continue
		}
		var marks []string
		name := ""
		for _, w := range strings.Fields(line) {
			switch {
			case w == "X" || w == "-":
				marks = append(marks, w)
			case name == "" && len(marks) == 0:
				name = w
			}
		}
		if len(marks) < 7 {
			continue
		}
		for c, rs := range httpRuleSets {
			if marks[len(marks)-3+c] == "X" {
				out = append(out, found{rs, name})
			}
		}
	}
	return out
}
