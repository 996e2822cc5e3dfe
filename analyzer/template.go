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
// that holds only template blocks becomes a comment, and findings on
// lines that held a placeholder are dropped: what the generator writes
// there is unknown.

// IsTemplateName reports names of Dockerfile templates.
func IsTemplateName(name string) bool { return templateName.MatchString(name) }

var (
	// placeholder matches Go/Jinja/mustache expressions and statements,
	// ERB tags, and the %%NAME%% and @NAME@ markers of sed-based
	// generators; none of them spans lines here.
	placeholder = regexp.MustCompile(`\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}|<%.*?%>|%%[A-Za-z_][A-Za-z0-9_]*%%|@[A-Z_][A-Z0-9_]*@`)
	// statementOnly matches a line that is nothing but template blocks:
	// statements (control flow, comments, docker-library's jq-template
	// `{{ def dnf: … -}}` and `{{ ) end -}}`), which a generator removes
	// from its output, or expressions whose output is unknown, such as
	// a whole instruction. Read as a comment, the line keeps the file
	// readable; as filler it would be an unknown instruction.
	statementOnly = regexp.MustCompile(`^\s*(` + templateBlock + `\s*)+$`)
	// templateStart finds a line that begins with a template block, which
	// no Dockerfile line does outside a RUN's continuation.
	templateStart = regexp.MustCompile(`(?m)^[ \t]*(\{\{|\{%|\{#|<%)`)
)

// templateBlock is one template block that does not hold its own
// closing delimiter: a line of blocks is not read across the text
// between them.
const templateBlock = `(\{\{([^}]|\}[^}])*\}\}|\{%([^%]|%[^}])*%\}|\{#([^#]|#[^}])*#\}|<%[^=]([^%]|%[^>])*%>)`

// templateDirs are the folder names generators keep their templates in
// (docker-library's template/, traefik's tmpl/).
var templateDirs = map[string]bool{"template": true, "templates": true, "_templates": true, "tmpl": true, "tmpls": true}

// isTemplate reports whether a file is a template of Dockerfiles, which a
// generator renders and BuildKit never reads: its name says so
// (Dockerfile.template), or a folder of its path holds a placeholder
// ({{cookiecutter.project_slug}}/Dockerfile), or it sits in a templates
// folder (template/Dockerfile.oracle) and either holds template syntax
// or has a generator above that folder, which writes Dockerfiles
// (traefik's update.sh renders tmpl/alpine/tmplv3.Dockerfile with
// envsubst, whose $ALPINE_VERSION reads like an ARG). A file that holds
// template syntax but does not parse is found by the engine instead.
func isTemplate(p string, src []byte, bc *BuildContext) bool {
	if isTemplatePath(p) {
		return true
	}
	dir := path.Dir(p)
	if strings.Contains(dir, "{{") || strings.Contains(dir, "{%") {
		return true
	}
	var tmplDir string
	for d, depth := dir, 0; d != "." && d != "/" && d != "" && depth < maxAncestorDirs; d, depth = path.Dir(d), depth+1 {
		if templateDirs[strings.ToLower(path.Base(d))] {
			tmplDir = d
			break
		}
	}
	if tmplDir == "" {
		return false
	}
	if placeholder.Match(src) {
		return true
	}
	return bc != nil && bc.fsys != nil && generatorAbove(bc.fsys, bc.repo, path.Dir(tmplDir)) != ""
}

// hasTemplateStatements reports whether a line of src begins with a
// template block: with a parse error, that makes the file a template.
func hasTemplateStatements(src []byte) bool { return templateStart.Match(src) }

// filledTemplate is a template read as a Dockerfile.
type filledTemplate struct {
	src []byte
	// lines that held a placeholder or a statement, 1-based.
	placeholders map[int]bool
	// fillers are the strings placeholders became, which a message that
	// quotes another line (a base image named on line 1) may carry.
	fillers map[string]bool
}

var (
	// fromLine and argLine find FROM and ARG instructions by their text.
	fromLine = regexp.MustCompile(`(?i)^\s*FROM\s`)
	argLine  = regexp.MustCompile(`(?i)^\s*ARG\s+(.*)$`)
	// shellVar is $NAME or ${NAME}, without a default.
	shellVar = regexp.MustCompile(`\$([A-Za-z_][A-Za-z0-9_]*)\b|\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)
)

// platformArgs are the ARGs BuildKit defines in the global scope, which
// a FROM may use undeclared.
var platformArgs = map[string]bool{
	"BUILDPLATFORM": true, "BUILDOS": true, "BUILDARCH": true, "BUILDVARIANT": true,
	"TARGETPLATFORM": true, "TARGETOS": true, "TARGETARCH": true, "TARGETVARIANT": true,
}

// declaredArgs lists the names the template's ARG lines declare.
func declaredArgs(src []byte) map[string]bool {
	names := map[string]bool{}
	for _, line := range bytes.Split(src, []byte("\n")) {
		m := argLine.FindSubmatch(line)
		if m == nil {
			continue
		}
		for _, f := range strings.Fields(string(m[1])) {
			name, _, _ := strings.Cut(f, "=")
			names[name] = true
		}
	}
	return names
}

// fillTemplate fills a template's placeholders; see the comment above.
// A variable a FROM uses that no ARG declares is a placeholder too: an
// envsubst or sed generator fills it (traefik's FROM alpine:$ALPINE_VERSION),
// while BuildKit would expand it to nothing.
func fillTemplate(src []byte) filledTemplate {
	out := filledTemplate{src: make([]byte, 0, len(src)), placeholders: map[int]bool{}, fillers: map[string]bool{}}
	var args map[string]bool
	fill := func(m []byte) []byte {
		filler := bytes.Repeat([]byte("x"), len(m))
		out.fillers[string(filler)] = true
		return filler
	}
	for i, line := range bytes.SplitAfter(src, []byte("\n")) {
		body := bytes.TrimRight(line, "\r\n")
		eol := line[len(body):]
		if fromLine.Match(body) && bytes.IndexByte(body, '$') >= 0 {
			if args == nil {
				args = declaredArgs(src)
			}
			body = shellVar.ReplaceAllFunc(body, func(m []byte) []byte {
				name := strings.Trim(string(m), "${}")
				if args[name] || platformArgs[name] {
					return m
				}
				out.placeholders[i+1] = true
				return fill(m)
			})
		}
		switch {
		case statementOnly.Match(body):
			out.placeholders[i+1] = true
			filled := bytes.Repeat([]byte(" "), len(body))
			filled[0] = '#'
			body = filled
		case placeholder.Match(body):
			out.placeholders[i+1] = true
			body = placeholder.ReplaceAllFunc(body, fill)
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
