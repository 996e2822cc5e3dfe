package rules

import (
	"fmt"
	"strings"

	"github.com/dockopt/dockopt/analyzer"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/patternmatcher"
)

// DockerignoreIncomplete finds .dockerignore files that let through what
// the context holds and the image must not get.
var DockerignoreIncomplete = &analyzer.Rule{
	ID:       "dockerignore-incomplete",
	Category: analyzer.CategorySize,
	Severity: analyzer.SeverityInfo,
	Title:    ".dockerignore misses paths the context holds or developers' machines have",
	Rationale: `A .dockerignore written once tends to fall behind the project: a new virtualenv folder, ` +
		`coverage output, a local .env, or a pattern such as __pycache__ that only matches at the top ` +
		`level (.dockerignore patterns are anchored at the context root, unlike .gitignore's). Whatever ` +
		`slips through is sent with every build and copied by COPY . into the image, costing size, cache ` +
		`hits and sometimes credentials. What is checked is what the context contains, what the ` +
		`repository's .gitignore says exists locally, and the essentials of the project's ecosystem (.git, ` +
		`node_modules, .venv, __pycache__). The appended lines never exclude a path the build reads (see ` +
		`dockerignore-missing), and the fix is one to review: it changes what the builder receives.`,
	Bad:  "# .dockerignore: __pycache__\nCOPY . .\n",
	Good: "# .dockerignore: .git, .venv, **/__pycache__\nCOPY . .\n",
	Fix:  analyzer.Review,
	Check: func(p *analyzer.Pass) {
		bc := p.Context
		di := bc.DockerIgnore
		if di == nil {
			return
		}
		if err := di.CompileError(); err != nil {
			at := wholeContextCopy(p.File)
			if at == nil && len(p.File.Stages) > 0 {
				at = p.File.Stages[0].From
			}
			if at != nil {
				p.Report(at, fmt.Sprintf("%s has a pattern BuildKit refuses (%v), so every build of this context stops before it starts; fix or remove that line", di.Path, err), nil)
			}
			return
		}
		whole := wholeContextCopy(p.File)
		if whole == nil {
			return
		}
		var missing []ignoreEntry
		var names, keptOut []string
		copyExcludes, sender := copyExcludeMatchers(p.File)
		if sender != nil {
			// The COPY that sends everything into the image is the one
			// to name, not an earlier one that excludes some of it.
			whole = sender
		}
		for _, e := range ignoreEntries(p.File, bc, false) {
			covered := true
			for _, probe := range e.probes {
				if !di.Excludes(probe) {
					covered = false
				}
			}
			if covered || listsAll(di, e.lines) {
				// Listed and still not excluded: a later line of the file
				// brings the path back, or one of its patterns breaks the
				// match. Appending the lines again would change nothing.
				continue
			}
			missing = append(missing, e)
			excluded := len(copyExcludes) > 0
			for _, m := range copyExcludes {
				excluded = excluded && allMatch(m, e.probes)
			}
			for _, l := range e.lines {
				if strings.HasPrefix(l, "!") {
					continue
				}
				if excluded {
					keptOut = append(keptOut, l)
				} else {
					names = append(names, l)
				}
			}
		}
		if len(missing) == 0 {
			return
		}
		copyText := strings.TrimSpace(whole.Text(p.File.Source))
		var message string
		switch {
		case len(keptOut) == 0:
			message = fmt.Sprintf("%s does not exclude %s, which %s on line %d would send into the image; add them",
				di.Path, strings.Join(names, ", "), copyText, whole.StartLine)
		case len(names) == 0:
			// The COPY's own --exclude keeps them out of the image; only
			// the transfer to the builder is left to save.
			message = fmt.Sprintf("%s does not exclude %s: the --exclude of %s on line %d keeps them out of the image, but every build still sends them to the builder; add them",
				di.Path, strings.Join(keptOut, ", "), copyText, whole.StartLine)
		default:
			message = fmt.Sprintf("%s does not exclude %s, which %s on line %d would send into the image, nor %s, which its --exclude keeps out of the image but every build still sends to the builder; add them",
				di.Path, strings.Join(names, ", "), copyText, whole.StartLine, strings.Join(keptOut, ", "))
		}
		added := append(append([]string(nil), names...), keptOut...)
		reportCheckedAgainstListing(p, whole, message,
			&analyzer.Fix{
				Message: "add " + strings.Join(added, ", ") + " to " + di.Path,
				Files: []analyzer.GeneratedFile{{
					Path:    di.Path,
					Content: renderIgnore(missing, false),
					Merge:   "append-lines",
				}},
			})
	},
}

// listsAll reports whether the ignore file has every line already
// (DockerIgnore.Has, which compares the patterns as BuildKit reads them,
// slashes trimmed). The append-lines merge compares raw lines instead, so
// for another spelling (/.git) it would append the line, and after the
// file's own "!.git/HEAD" that would undo the re-include: the entry is
// left alone all the same.
func listsAll(di *analyzer.DockerIgnore, lines []string) bool {
	for _, l := range lines {
		if !di.Has(l) {
			return false
		}
	}
	return true
}

// copyExcludeMatchers returns the matchers of the --exclude patterns of
// every COPY and ADD of the whole context: a path they all exclude stays
// out of every image. When one of them has none, it returns no matchers
// and that instruction, which sends the whole context into its image.
func copyExcludeMatchers(d *analyzer.Dockerfile) ([]*patternmatcher.PatternMatcher, *analyzer.Instruction) {
	var out []*patternmatcher.PatternMatcher
	for in := range d.Each("") {
		if in.Onbuild != nil || !copiesWholeContext(in) {
			continue
		}
		m := copyExcludeMatcher(in)
		if m == nil {
			return nil, in
		}
		out = append(out, m)
	}
	return out, nil
}

// copyExcludeMatcher is the matcher of a COPY's --exclude patterns, nil
// when it has none or BuildKit would refuse them.
func copyExcludeMatcher(in *analyzer.Instruction) *patternmatcher.PatternMatcher {
	var excludes []string
	switch c := in.Command.(type) {
	case *instructions.CopyCommand:
		excludes = c.ExcludePatterns
	case *instructions.AddCommand:
		excludes = c.ExcludePatterns
	}
	if len(excludes) == 0 {
		return nil
	}
	m, err := patternmatcher.New(excludes)
	if err != nil {
		return nil
	}
	return m
}

// allMatch reports whether every path is matched by m, or lies under a
// match.
func allMatch(m *patternmatcher.PatternMatcher, paths []string) bool {
	if len(paths) == 0 {
		return false
	}
	for _, p := range paths {
		if ok, err := m.MatchesOrParentMatches(p); err != nil || !ok {
			return false
		}
	}
	return true
}
