package analyzer

import (
	"fmt"
	"io/fs"
	"sort"
	"strings"
)

// FindingGroup is one finding that several files share because one
// template generates them all: a tree of official-image variants repeats
// every finding of its template once per variant, and a reader (or a
// check run's annotations) should see it once, at the template, with the
// number of files it stands for.
//
// Findings are the same when they come from the same rule, at the same
// line counted from their stage's FROM (generated headers differ in
// length), with the same message once each file's own path is taken out.
type FindingGroup struct {
	// Template is the repository path of the template.
	Template string
	// Line and EndLine are the finding's lines in the template, 0 when the
	// template's line could not be told (it does not parse, or its line
	// there is another instruction).
	Line, EndLine int
	Rule          string
	Severity      Severity
	// Message is the rule's message, without the note on the withheld fix.
	Message  string
	Withheld Precondition
	// Files hold the finding: the template itself first when it was
	// analyzed and has it, then the generated files by path. Files[0]
	// holds the lead, the finding output shows.
	Files []GroupedFile
}

// GroupedFile is where a group's finding is in one file.
type GroupedFile struct {
	Path    string `json:"path"`
	Line    int    `json:"line"`
	EndLine int    `json:"end_line"`
}

// Where returns the place to show the group: the template's line when it
// is known, else the lead's.
func (g *FindingGroup) Where() (path string, line, endLine int) {
	if g.Line > 0 {
		return g.Template, g.Line, g.EndLine
	}
	return g.Files[0].Path, g.Files[0].Line, g.Files[0].EndLine
}

// Variants counts the generated files that hold the finding.
func (g *FindingGroup) Variants() int {
	n := 0
	for _, f := range g.Files {
		if f.Path != g.Template {
			n++
		}
	}
	return n
}

// Note says, for a reader of the lead, which files the finding stands for.
func (g *FindingGroup) Note() string {
	var paths []string
	for _, f := range g.Files {
		if f.Path != g.Template {
			paths = append(paths, PrintableName(f.Path))
		}
	}
	const shown = 3
	list := strings.Join(paths[:min(len(paths), shown)], ", ")
	if len(paths) > shown {
		list += fmt.Sprintf(" and %d more", len(paths)-shown)
	}
	files := "files"
	if len(paths) == 1 {
		files = "file"
	}
	switch {
	case g.Files[0].Path == g.Template:
		return fmt.Sprintf("also in the %d %s generated from this template: %s", len(paths), files, list)
	case g.Line > 0:
		return fmt.Sprintf("the same in %d %s generated from %s, line %d there: %s; reported once", len(paths), files, PrintableName(g.Template), g.Line, list)
	}
	return fmt.Sprintf("the same in %d %s generated from %s: %s; reported once", len(paths), files, PrintableName(g.Template), list)
}

// Once returns the finding as output that shows each finding once shows
// it: a group's lead at the group's place, the template's line when it is
// known, with a note on the files it stands for. ok is false for a repeat,
// which such output leaves out.
func (f Finding) Once() (_ Finding, ok bool) {
	if f.repeat {
		return f, false
	}
	if g := f.Group; g != nil {
		f.Path, f.Line, f.EndLine = g.Where()
		f.Message += " (" + g.Note() + ")"
	}
	return f, true
}

// Under returns a copy of the group with every path below prefix, for
// output that joins the analyses of several folders.
func (g *FindingGroup) Under(prefix string) *FindingGroup {
	cp := *g
	cp.Template = prefix + "/" + g.Template
	cp.Files = make([]GroupedFile, len(g.Files))
	for i, f := range g.Files {
		f.Path = prefix + "/" + f.Path
		cp.Files[i] = f
	}
	return &cp
}

// groupKey is what makes two findings the same across variants.
type groupKey struct {
	template, rule, message string
	stage, line, span       int
	// occurrence tells apart the same finding twice in one file (two wget
	// calls in one RUN): the first of each file groups with the firsts.
	occurrence int
}

// groupFindings groups the findings that files generated from one
// template share, marks every member but the lead as a repeat, and returns
// the groups in the order of their leads. fsys is read for templates that
// were not analyzed, to find the template's line.
func groupFindings(fsys fs.FS, files []*FileResult) []*FindingGroup {
	byKey := map[groupKey]*FindingGroup{}
	members := map[*FindingGroup][]*Finding{}
	var order []groupKey
	analyzed := map[string]*FileResult{}
	for _, fr := range files {
		if fr != nil && fr.Template && fr.Dockerfile != nil {
			analyzed[fr.Path] = fr
		}
	}
	for _, fr := range files {
		template := templateOf(fr)
		if template == "" {
			continue
		}
		seen := map[groupKey]int{}
		for i := range fr.Findings {
			fd := &fr.Findings[i]
			first := groupKey{template: template, rule: fd.Rule, message: normalizeMessage(fd.base, fr.Path),
				stage: fd.Stage, line: fd.Line - anchorLine(fr.Dockerfile, fd.Stage), span: fd.EndLine - fd.Line}
			k := first
			k.occurrence = seen[first]
			seen[first]++
			g := byKey[k]
			if g == nil {
				g = &FindingGroup{Template: template, Rule: fd.Rule, Message: fd.base}
				byKey[k] = g
				order = append(order, k)
			}
			members[g] = append(members[g], fd)
			g.Files = append(g.Files, GroupedFile{Path: fr.Path, Line: fd.Line, EndLine: fd.EndLine})
		}
	}
	templates := map[string]*Dockerfile{}
	var out []*FindingGroup
	for _, k := range order {
		g := byKey[k]
		ms := members[g]
		if len(ms) < 2 {
			continue
		}
		// The template's own finding leads; then the first variant by path.
		idx := make([]int, len(ms))
		for i := range idx {
			idx[i] = i
		}
		sort.SliceStable(idx, func(a, b int) bool {
			pa, pb := g.Files[idx[a]].Path, g.Files[idx[b]].Path
			if (pa == g.Template) != (pb == g.Template) {
				return pa == g.Template
			}
			return pa < pb
		})
		sortedFiles := make([]GroupedFile, len(idx))
		sortedMembers := make([]*Finding, len(idx))
		for i, j := range idx {
			sortedFiles[i], sortedMembers[i] = g.Files[j], ms[j]
		}
		g.Files = sortedFiles
		lead := sortedMembers[0]
		g.Severity, g.Withheld = lead.Severity, lead.Withheld
		for _, m := range sortedMembers[1:] {
			m.repeat = true
			if m.Withheld != "" && g.Withheld == "" {
				g.Withheld = m.Withheld
			}
		}
		for _, m := range sortedMembers {
			m.Group = g
		}
		if g.Files[0].Path == g.Template {
			g.Line, g.EndLine = g.Files[0].Line, g.Files[0].EndLine
		} else {
			tpl, ok := templates[g.Template]
			if !ok {
				tpl = templateDockerfile(fsys, g.Template, analyzed)
				templates[g.Template] = tpl
			}
			g.Line, g.EndLine = templateLine(tpl, leadFile(files, g.Files[0].Path), lead)
		}
		out = append(out, g)
	}
	return out
}

// templateOf is the template a file's findings are grouped under: its own
// path for a template, its template for a generated file, "" otherwise.
func templateOf(fr *FileResult) string {
	switch {
	case fr == nil || fr.Dockerfile == nil:
		return ""
	case fr.Template:
		return fr.Path
	case fr.Generated != nil:
		return fr.Generated.Template
	}
	return ""
}

// anchorLine is the line a finding's place is counted from: its stage's
// FROM, or the file's first instruction for findings outside a stage.
func anchorLine(d *Dockerfile, stage int) int {
	switch {
	case stage >= 0 && stage < len(d.Stages):
		return d.Stages[stage].From.StartLine
	case len(d.Instructions) > 0:
		return d.Instructions[0].StartLine
	}
	return 1
}

// normalizeMessage takes the file's own path and folder out of a message,
// so that "COPY . . in 16/bookworm/Dockerfile" matches its 17 sibling.
func normalizeMessage(msg, file string) string {
	msg = strings.ReplaceAll(msg, file, "\x00file")
	if dir := parentDir(file); dir != "" {
		msg = strings.ReplaceAll(msg, dir+"/", "\x00dir/")
	}
	return msg
}

func parentDir(p string) string {
	if i := strings.LastIndexByte(p, '/'); i > 0 {
		return p[:i]
	}
	return ""
}

func leadFile(files []*FileResult, p string) *FileResult {
	for _, fr := range files {
		if fr != nil && fr.Path == p {
			return fr
		}
	}
	return nil
}

// templateDockerfile reads a template as a Dockerfile: the analyzed one,
// or the file read and filled in here; nil when it cannot be read so.
func templateDockerfile(fsys fs.FS, p string, analyzed map[string]*FileResult) *Dockerfile {
	if fr, ok := analyzed[p]; ok {
		return fr.Dockerfile
	}
	if fsys == nil {
		return nil
	}
	src, err := readBounded(fsys, p, MaxDockerfileSize)
	if err != nil {
		return nil
	}
	d, err := Parse(p, fillTemplate(src).src)
	if err != nil {
		return nil
	}
	return d
}

// templateLine finds the lead's instruction in the template: as many
// lines after the same stage's FROM, and starting with the same keyword.
func templateLine(tpl *Dockerfile, fr *FileResult, lead *Finding) (int, int) {
	if tpl == nil || fr == nil || fr.Dockerfile == nil {
		return 0, 0
	}
	var in *Instruction
	for _, i := range fr.Dockerfile.Instructions {
		if i.StartLine == lead.Line {
			in = i
			break
		}
	}
	if in == nil || (lead.Stage >= 0 && lead.Stage >= len(tpl.Stages)) {
		return 0, 0
	}
	line := anchorLine(tpl, lead.Stage) + lead.Line - anchorLine(fr.Dockerfile, lead.Stage)
	for _, t := range tpl.Instructions {
		if t.StartLine == line && t.Keyword == in.Keyword {
			if lead.EndLine >= in.EndLine {
				return line, t.EndLine
			}
			return line, min(line+lead.EndLine-lead.Line, t.EndLine)
		}
	}
	return 0, 0
}
