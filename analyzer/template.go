package analyzer

import (
	"bytes"
	"path"
	"regexp"
	"strings"
)

// Templates of Dockerfiles (Dockerfile.template, Dockerfile-alpine.tmpl,
// Dockerfile.j2, app.dockerfile.jinja) are found and analyzed like
// Dockerfiles, so that their findings are reported where the change
// belongs, but they are never patched or built: what their placeholders
// become is the generator's business, so no edit of them can be verified.
//
// To read one as a Dockerfile, each placeholder is filled with as many
// x's as it has bytes (lines and offsets stay those of the file), a line
// that holds only template statements becomes a comment, and findings on
// lines that held a placeholder are dropped: what the generator writes
// there is unknown.

// IsTemplateName reports names of Dockerfile templates.
func IsTemplateName(name string) bool { return templateName.MatchString(name) }

var (
	// placeholder matches Go/Jinja/mustache expressions and statements,
	// ERB tags, and the %%NAME%% and @NAME@ markers of sed-based
	// generators; none of them spans lines here.
	placeholder = regexp.MustCompile(`\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}|<%.*?%>|%%[A-Za-z_][A-Za-z0-9_]*%%|@[A-Z_][A-Z0-9_]*@`)
	// statementOnly matches a line that is nothing but template statements
	// (control flow, comments), which a generator removes from its output.
	statementOnly = regexp.MustCompile(`^\s*((\{\{-?\s*((if|else|end|range|with|define|template|block)\b|/\*).*?\}\}|\{%.*?%\}|\{#.*?#\}|<%[^=].*?%>)\s*)+$`)
)

// filledTemplate is a template read as a Dockerfile.
type filledTemplate struct {
	src []byte
	// lines that held a placeholder or a statement, 1-based.
	placeholders map[int]bool
	// fillers are the strings placeholders became, which a message that
	// quotes another line (a base image named on line 1) may carry.
	fillers map[string]bool
}

// fillTemplate fills a template's placeholders; see the comment above.
func fillTemplate(src []byte) filledTemplate {
	out := filledTemplate{src: make([]byte, 0, len(src)), placeholders: map[int]bool{}, fillers: map[string]bool{}}
	for i, line := range bytes.SplitAfter(src, []byte("\n")) {
		body := bytes.TrimRight(line, "\r\n")
		eol := line[len(body):]
		switch {
		case statementOnly.Match(body):
			out.placeholders[i+1] = true
			filled := bytes.Repeat([]byte(" "), len(body))
			filled[0] = '#'
			body = filled
		case placeholder.Match(body):
			out.placeholders[i+1] = true
			body = placeholder.ReplaceAllFunc(body, func(m []byte) []byte {
				filler := bytes.Repeat([]byte("x"), len(m))
				out.fillers[string(filler)] = true
				return filler
			})
		}
		out.src = append(append(out.src, body...), eol...)
	}
	return out
}

// touches reports whether a finding's lines held a placeholder, or its
// message quotes one.
func (t filledTemplate) touches(f Finding) bool {
	for l := f.Line; l <= max(f.EndLine, f.Line); l++ {
		if t.placeholders[l] {
			return true
		}
	}
	return t.quotes(f.Message)
}

func (t filledTemplate) quotes(msg string) bool {
	for filler := range t.fillers {
		if strings.Contains(msg, filler) {
			return true
		}
	}
	return false
}

// isTemplatePath reports whether a path names a Dockerfile template.
func isTemplatePath(p string) bool { return IsTemplateName(path.Base(p)) }
