package analyzer

import (
	"bytes"
	"io/fs"
	"path"
	"regexp"
	"strings"
)

// Scripts that keep Dockerfiles up to date by editing them in place
// (docker-library's older update.sh: sed -ri 's/^(ENV REDIS_VERSION) .*/\1 '"$v"'/'
// */Dockerfile) match instructions by their text. An edit that changes that
// text, even one that means the same to BuildKit (ENV NAME value written
// as ENV NAME=value), makes the script's pattern stop matching: the next
// release is silently not applied. Rules that rewrite such a line ask
// UpdatedInPlace first and withhold their fix.

var (
	// updaterName is a script whose name says it updates versions.
	updaterName = regexp.MustCompile(`(?i)^(update|bump|upgrade|release)[\w.-]*\.(sh|bash|py)$`)
	// inPlaceEditor finds a sed or perl invocation that edits files in
	// place: sed -i, -ri, -Ei, -i.bak, --in-place; perl -pi, -i -pe.
	inPlaceEditor = regexp.MustCompile(`\bsed\b[^|;&\n]*?\s(-[a-zA-Z]*i[a-zA-Z.]*|--in-place)\b|\bperl\b[^|;&\n]*?\s-[a-zA-Z]*i`)
	// updatedInstruction finds KEYWORD NAME in a sed or perl program, with
	// the separators patterns use between them (a space, \s, [[:space:]],
	// a character class, a group's opening parenthesis).
	updatedInstruction = regexp.MustCompile(`\b(ENV|ARG|LABEL)(?:\s|\\s[+*]?|\[\[:space:\]\][+*]?|\[[ \\t]+\][+*]?|\\?\()+([A-Za-z_][A-Za-z0-9_]*)`)
)

// updatedInPlace returns, for a script that mentions Dockerfiles, each
// "KEYWORD NAME" an in-place sed or perl program of it matches, with the
// program's line as the evidence. Continued lines are read as one.
func updatedInPlace(script []byte) map[string]string {
	if !bytes.Contains(script, []byte("Dockerfile")) && !bytes.Contains(script, []byte("dockerfile")) {
		return nil
	}
	var out map[string]string
	joined := bytes.ReplaceAll(script, []byte("\\\n"), []byte(" "))
	for _, line := range bytes.Split(joined, []byte("\n")) {
		if !bytes.Contains(line, []byte("sed")) && !bytes.Contains(line, []byte("perl")) {
			continue
		}
		loc := inPlaceEditor.FindIndex(line)
		if loc == nil {
			continue
		}
		program := line[loc[0]:]
		for _, m := range updatedInstruction.FindAllSubmatchIndex(program, maxUpdatedNames) {
			if keyValueAfter(program[m[5]:]) {
				// "ENV NAME=" matches only the key=value form, which
				// the fix writes: the fix does not break the script.
				continue
			}
			if out == nil {
				out = map[string]string{}
			}
			key := string(program[m[2]:m[3]]) + " " + string(program[m[4]:m[5]])
			if _, ok := out[key]; !ok && len(out) < maxUpdatedNames {
				out[key] = quotedAround(program, m[0], m[1])
			}
		}
	}
	return out
}

// keyValueAfter reports a pattern that goes on from an instruction's
// name with = (ENV NAME=, \(ENV NAME\)=), written for the key=value form.
func keyValueAfter(rest []byte) bool {
	rest = bytes.TrimPrefix(bytes.TrimPrefix(rest, []byte(`\`)), []byte(")"))
	return len(rest) > 0 && rest[0] == '='
}

// quotedAround returns the quoted word of a command line that holds
// line[start:end] (the sed expression that names the instruction), or the
// whole line, spaces collapsed, when it is not quoted.
func quotedAround(line []byte, start, end int) string {
	if open := bytes.LastIndexAny(line[:start], `'"`); open >= 0 {
		if n := bytes.IndexByte(line[end:], line[open]); n >= 0 {
			return string(line[open : end+n+1])
		}
	}
	return strings.Join(strings.Fields(string(line)), " ")
}

// maxAutomationFiles bounds the files read of each automation folder.
const maxAutomationFiles = 32

// maxUpdatedNames bounds what one script's in-place programs record.
const maxUpdatedNames = 256

// UpdatedInPlace returns the script that rewrites the instruction KEYWORD
// NAME of this file in place (a generator-named script in its folder or
// above, up to the same depth generator detection reads), and the line of
// the script that does; "" when none does.
func (f *Facts) UpdatedInPlace(keyword, name string) (script, evidence string) {
	f.updOnce.Do(f.findUpdaters)
	key := strings.ToUpper(keyword) + " " + name
	for _, u := range f.updaters {
		if line, ok := u.updated[key]; ok {
			return u.path, line
		}
	}
	return "", ""
}

type updater struct {
	path    string
	updated map[string]string
}

// updaterDirs are the repository's folders for automation, whose scripts
// and workflows may update any Dockerfile of the repository.
var updaterDirs = []string{".github/workflows", ".github/scripts", "scripts", "hack", "ci", ".ci"}

func (f *Facts) findUpdaters() {
	fsys := f.ctx.fsys
	if fsys == nil || f.file.Template || isTemplatePath(f.file.Path) {
		return
	}
	ev := f.ctx.repo
	if ev == nil {
		ev = newRepoEvidence()
	}
	consider := func(scripts []string, limit int) {
		for i, s := range scripts {
			if i >= limit {
				break
			}
			if se := ev.script(fsys, s); len(se.updated) > 0 {
				f.updaters = append(f.updaters, updater{path: s, updated: se.updated})
			}
		}
	}
	dir := path.Dir(f.file.Path)
	for depth := 0; depth < maxAncestorDirs; depth++ {
		d := ev.dir(fsys, dir)
		consider(d.scripts, maxGeneratorScripts)
		consider(d.updaters, maxGeneratorScripts)
		if dir == "." || dir == "/" || dir == "" {
			break
		}
		dir = path.Dir(dir)
	}
	for _, dir := range updaterDirs {
		consider(ev.automation(fsys, dir), maxAutomationFiles)
	}
}

// automation lists the scripts and workflow files of one automation
// folder (updaterDirs), read once per analysis.
func (r *repoEvidence) automation(fsys fs.FS, dir string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if list, ok := r.automated[dir]; ok {
		return list
	}
	var list []string
	entries, _ := fs.ReadDir(fsys, dir)
	for i, e := range entries {
		if i >= maxEntriesPerDir {
			break
		}
		name := e.Name()
		if !e.IsDir() && (automationFile.MatchString(name) || updaterName.MatchString(name) || generatorName.MatchString(name)) {
			list = append(list, path.Join(dir, name))
		}
	}
	if r.automated == nil {
		r.automated = map[string][]string{}
	}
	r.automated[dir] = list
	return list
}

// automationFile is a workflow or script an automation folder holds.
var automationFile = regexp.MustCompile(`(?i)\.(ya?ml|sh|bash)$`)
