package rules

import (
	"fmt"
	"path"
	"strings"

	"github.com/dockopt/dockopt/analyzer"
	"github.com/moby/patternmatcher"
)

// CopyIgnoredFile finds COPY and ADD sources the .dockerignore removes
// from the context.
var CopyIgnoredFile = &analyzer.Rule{
	ID:       "copy-ignored-file",
	Category: analyzer.CategoryReliability,
	Severity: analyzer.SeverityError,
	Title:    "COPY or ADD source is excluded by .dockerignore",
	Rationale: `Files excluded by .dockerignore are never sent to the builder. A COPY or ADD that names one ` +
		`fails with "not found", and one whose wildcard or folder only holds excluded files copies nothing ` +
		`and the image is silently incomplete. This usually happens when a .dockerignore is tightened ` +
		`(or generated) without checking the Dockerfiles that use the context. Either re-include the path ` +
		`with a ! pattern or stop copying it. Sources from other stages or images (COPY --from), URLs and ` +
		`sources that use build arguments are not checked, unless the folder they lie in is excluded whole. ` +
		`A pip install -r, after a copy of the whole context, of a requirements file the .dockerignore ` +
		`excludes fails the same way, and is reported on its RUN.`,
	Bad:         "# .dockerignore: dist\nCOPY dist /usr/share/nginx/html\n",
	Good:        "# .dockerignore: dist/**/*.map\nCOPY dist /usr/share/nginx/html\n",
	Equivalents: []string{"buildkit:CopyIgnoredFile"},
	Check: func(p *analyzer.Pass) {
		di := p.Context.DockerIgnore
		if di == nil || len(di.Patterns) == 0 {
			return
		}
		for in := range p.File.Each("") {
			if in.Onbuild != nil {
				// An ONBUILD trigger copies from the context of a build
				// FROM this image, through that build's .dockerignore.
				continue
			}
			c, ok := copyOf(in)
			if !ok {
				continue
			}
			for _, src := range c.contextSources() {
				if isWholeContext(src) {
					continue
				}
				if strings.Contains(src, "$") {
					if dir, pat := ignoredVariableFolder(di, src); dir != "" {
						p.Report(in, fmt.Sprintf("%s source %s is in %s, which the .dockerignore pattern %q excludes: for any value that stays in that folder, the build fails with \"not found\"; re-include it in %s with a ! pattern or stop copying it",
							in.Keyword, src, dir, pat, di.Path), nil)
					}
					continue
				}
				if msg := ignoredSource(p.Context, di, src); msg != "" {
					p.Report(in, fmt.Sprintf("%s source %s %s; re-include it in %s with a ! pattern or stop copying it", in.Keyword, src, msg, di.Path), nil)
				}
			}
		}
		for _, s := range p.File.Stages {
			checkIgnoredRequirements(p, di, s)
		}
	},
}

// checkIgnoredRequirements finds a pip install -r, after a copy of the
// whole context, of a requirements file the context holds but the
// .dockerignore keeps out (corpus 317: "*.txt"): the copy cannot bring
// it, so the install fails with "No such file", as a COPY naming it would.
func checkIgnoredRequirements(p *analyzer.Pass, di *analyzer.DockerIgnore, s *analyzer.Stage) {
	dest := ""
	for _, in := range s.Instructions {
		if in.Onbuild != nil {
			continue
		}
		if copiesWholeContext(in) {
			c, _ := copyOf(in)
			dest = analyzer.ResolvePath(in.WorkdirBefore(), c.dest)
			continue
		}
		if dest == "" || in.Keyword != "RUN" || in.Script == nil {
			continue
		}
		wd := in.WorkdirBefore()
		for _, c := range in.Script.Commands() {
			if next, isCd := cdTo(wd, c); isCd {
				wd = next
				continue
			}
			if pm, _ := analyzer.PackageManagerOf(c); pm != analyzer.Pip {
				continue
			}
			for _, f := range pipRequirements(c) {
				rel := relToDest(analyzer.ResolvePath(wd, f), dest)
				if rel == "" || !p.Context.Has(rel) || !di.Excludes(rel) || reincludedBelow(di, rel) {
					continue
				}
				why := "the .dockerignore excludes it"
				if pat := excludingPattern(di, rel); pat != "" {
					why = fmt.Sprintf("the .dockerignore pattern %q excludes it", pat)
				}
				p.Report(in, fmt.Sprintf("pip install reads %s, which the copy of the whole context cannot bring: %s, so the build fails here; re-include it in %s with a ! pattern", f, why, di.Path), nil)
			}
		}
	}
}

// ignoredVariableFolder returns the folder a source that names a build
// argument ("config/${CONF}") lies in when the .dockerignore excludes that
// whole folder, and the pattern that does: no value of the argument
// escapes it. A re-include with a wildcard might, so none is claimed then.
func ignoredVariableFolder(di *analyzer.DockerIgnore, src string) (dir, pattern string) {
	rel := strings.TrimPrefix(src, "/")
	fixed, _, _ := strings.Cut(rel, "$")
	i := strings.LastIndexByte(fixed, '/')
	if i <= 0 || strings.ContainsAny(fixed[:i], "*?[\\") {
		return "", ""
	}
	dir = path.Clean(fixed[:i])
	for _, pat := range di.Patterns {
		if strings.HasPrefix(pat, "!") && strings.ContainsAny(pat, "*?[") {
			return "", ""
		}
	}
	if !di.Excludes(dir) || reincludedBelow(di, dir) {
		return "", ""
	}
	if pattern = excludingPattern(di, dir); pattern == "" {
		return "", ""
	}
	return dir, pattern
}

// ignoredSource explains how a source is excluded, "" when it is not.
func ignoredSource(bc *analyzer.BuildContext, di *analyzer.DockerIgnore, src string) string {
	rel := path.Clean(strings.TrimPrefix(src, "/"))
	if strings.ContainsAny(rel, "*?[") {
		if bc.Truncated {
			// A file the listing stopped before may be one that is sent.
			return ""
		}
		matched, kept := 0, 0
		for _, f := range bc.Files {
			if ok, _ := path.Match(rel, f); ok || matchesParent(rel, f) {
				matched++
				if !di.Excludes(f) {
					kept++
				}
			}
		}
		if matched > 0 && kept == 0 {
			return fmt.Sprintf("matches only files that .dockerignore excludes (%d): the build fails or copies nothing", matched)
		}
		return ""
	}
	if di.Excludes(rel) {
		if reincludedBelow(di, rel) {
			return ""
		}
		if pat := excludingPattern(di, rel); pat != "" {
			return fmt.Sprintf("is excluded by the .dockerignore pattern %q: the build fails with \"not found\"", pat)
		}
		return "is excluded by .dockerignore: the build fails with \"not found\""
	}
	// A folder whose every file is excluded copies nothing; past a
	// truncated listing, that cannot be told.
	if bc.Truncated {
		return ""
	}
	files, kept := 0, 0
	for _, f := range bc.Files {
		if strings.HasPrefix(f, rel+"/") {
			files++
			if !di.Excludes(f) {
				kept++
			}
		}
	}
	if files > 0 && kept == 0 {
		return fmt.Sprintf("is a folder whose files .dockerignore all excludes (%d): the image gets an empty folder", files)
	}
	return ""
}

func matchesParent(pattern, f string) bool {
	for d := path.Dir(f); d != "." && d != "/"; d = path.Dir(d) {
		if ok, _ := path.Match(pattern, d); ok {
			return true
		}
	}
	return false
}

// reincludedBelow reports a `!` pattern that brings back something
// inside an excluded folder, which BuildKit honours.
func reincludedBelow(di *analyzer.DockerIgnore, rel string) bool {
	for _, pat := range di.Patterns {
		if strings.HasPrefix(pat, "!") {
			p := path.Clean(strings.TrimPrefix(strings.TrimPrefix(pat, "!"), "/"))
			if strings.HasPrefix(p, rel+"/") || p == rel {
				return true
			}
		}
	}
	return false
}

// excludingPattern returns the last pattern that excludes rel.
func excludingPattern(di *analyzer.DockerIgnore, rel string) string {
	found := ""
	for _, pat := range di.Patterns {
		if strings.HasPrefix(pat, "!") {
			continue
		}
		m, err := patternmatcher.New([]string{pat})
		if err != nil {
			continue
		}
		if ok, _ := m.MatchesOrParentMatches(rel); ok {
			found = pat
		}
	}
	return found
}
