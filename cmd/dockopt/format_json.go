package main

import (
	"encoding/json"
	"io"

	"github.com/dockopt/dockopt/analyzer"
)

// jsonVersion is bumped only for incompatible changes to the output.
const jsonVersion = 1

type jsonOutput struct {
	Version int          `json:"version"`
	Files   []jsonFile   `json:"files"`
	Changes []jsonChange `json:"changes"`
	Builds  []jsonBuild  `json:"builds,omitempty"`
	// Groups are findings that files generated from one template share;
	// each member finding names its group.
	Groups []jsonGroup `json:"groups,omitempty"`
	// Skipped are the files not analyzed, and why; Limits what else the
	// analysis left out. Both are absent when there is nothing to say.
	Skipped []analyzer.Skipped `json:"skipped,omitempty"`
	Limits  []analyzer.Limit   `json:"limits,omitempty"`
}

type jsonGroup struct {
	ID       int                    `json:"id"`
	Template string                 `json:"template"`
	Line     int                    `json:"line,omitempty"`
	EndLine  int                    `json:"end_line,omitempty"`
	Rule     string                 `json:"rule"`
	Severity string                 `json:"severity"`
	Message  string                 `json:"message"`
	Withheld string                 `json:"withheld,omitempty"`
	Files    []analyzer.GroupedFile `json:"files"`
}

type jsonGenerated struct {
	Why       string `json:"why"`
	Template  string `json:"template,omitempty"`
	Generator string `json:"generator,omitempty"`
}

type jsonFile struct {
	Path      string               `json:"path"`
	Kind      string               `json:"kind,omitempty"`
	Ecosystem string               `json:"ecosystem,omitempty"`
	Role      string               `json:"role,omitempty"`
	Stages    []analyzer.StageInfo `json:"stages"`
	Strengths []analyzer.Strength  `json:"strengths"`
	Findings  []jsonFinding        `json:"findings"`
	Error     string               `json:"error,omitempty"`
	// Template marks a template of Dockerfiles; Generated a file a
	// generator writes. dockopt edits neither.
	Template  bool           `json:"template,omitempty"`
	Generated *jsonGenerated `json:"generated,omitempty"`
}

type jsonFinding struct {
	Rule        string   `json:"rule"`
	Category    string   `json:"category"`
	Severity    string   `json:"severity"`
	Line        int      `json:"line"`
	EndLine     int      `json:"end_line"`
	Message     string   `json:"message"`
	Equivalents []string `json:"equivalents"`
	Fix         *jsonFix `json:"fix,omitempty"`
	// Withheld names the precondition that kept a fix from being offered.
	Withheld string `json:"withheld,omitempty"`
	// Group is the id of the group the finding belongs to; Repeats is set
	// on every member but the group's lead.
	Group   int  `json:"group,omitempty"`
	Repeats bool `json:"repeats,omitempty"`
}

type jsonFix struct {
	Safety string `json:"safety"`
}

type jsonChange struct {
	Path   string `json:"path"`
	Action string `json:"action"`
	// Diff is the change as a unified diff, with --diff.
	Diff string `json:"diff,omitempty"`
}

// jsonBuild is one BuildKit build of an original or optimized Dockerfile.
type jsonBuild struct {
	Path           string  `json:"path"`
	Variant        string  `json:"variant"`
	OK             bool    `json:"ok"`
	DurationMS     int64   `json:"duration_ms"`
	CompressedSize int64   `json:"compressed_size_bytes,omitempty"`
	Layers         int     `json:"layers,omitempty"`
	User           *string `json:"user,omitempty"`
	Error          string  `json:"error,omitempty"`
}

func toJSON(files []*analyzer.FileResult, changes []jsonChange, builds []jsonBuild, nc notCovered) jsonOutput {
	out := jsonOutput{Version: jsonVersion, Files: []jsonFile{}, Changes: changes, Builds: builds, Skipped: nc.skipped, Limits: nc.limits}
	if out.Changes == nil {
		out.Changes = []jsonChange{}
	}
	groups := map[*analyzer.FindingGroup]int{}
	for _, f := range files {
		jf := jsonFile{Path: f.Path, Kind: f.Kind, Ecosystem: f.Ecosystem, Role: string(f.Role), Stages: f.Stages, Strengths: f.Strengths,
			Findings: []jsonFinding{}, Error: f.Error, Template: f.Template}
		if g := f.Generated; g != nil {
			jf.Generated = &jsonGenerated{Why: g.Why, Template: g.Template, Generator: g.Generator}
		}
		if jf.Stages == nil {
			jf.Stages = []analyzer.StageInfo{}
		}
		if jf.Strengths == nil {
			jf.Strengths = []analyzer.Strength{}
		}
		for _, fd := range f.Findings {
			jfd := jsonFinding{Rule: fd.Rule, Category: string(fd.Category), Severity: fd.Severity.String(), Line: fd.Line,
				EndLine: fd.EndLine, Message: fd.Message, Equivalents: nonNil(fd.Equivalents)}
			jfd.Withheld = string(fd.Withheld)
			if fd.Fix != nil {
				jfd.Fix = &jsonFix{Safety: string(fd.Fix.Safety)}
			}
			if g := fd.Group; g != nil {
				if groups[g] == 0 {
					groups[g] = len(groups) + 1
					out.Groups = append(out.Groups, jsonGroup{ID: groups[g], Template: g.Template, Line: g.Line, EndLine: g.EndLine, Rule: g.Rule,
						Severity: g.Severity.String(), Message: g.Message, Withheld: string(g.Withheld), Files: g.Files})
				}
				jfd.Group, jfd.Repeats = groups[g], fd.Repeats()
			}
			jf.Findings = append(jf.Findings, jfd)
		}
		out.Files = append(out.Files, jf)
	}
	return out
}

func writeJSON(w io.Writer, out jsonOutput) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(out)
}
