package rules

import (
	"strings"

	"github.com/dockopt/dockopt/analyzer"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
)

// CopyMultiSourceDir mirrors hadolint DL3021.
var CopyMultiSourceDir = &analyzer.Rule{
	ID:       "copy-multi-source-dir",
	Category: analyzer.CategoryReliability,
	Severity: analyzer.SeverityError,
	Title:    "COPY of several sources to a destination without a final slash",
	Rationale: `With several sources the destination can only be a directory, and Docker's documentation requires ` +
		`it to end with "/". BuildKit does not enforce that: when the directory does not exist yet, each source ` +
		`is written to the same path in turn and only the last one survives, as a file. A final slash says what ` +
		`is meant, and the fix adds it. "." is the working directory and is accepted, unlike in hadolint.`,
	Bad:         "COPY package.json package-lock.json /app\n",
	Good:        "COPY package.json package-lock.json /app/\n",
	Equivalents: []string{"hadolint:DL3021", "trivy:DS011"},
	Fix:         analyzer.Safe,
	Check: func(p *analyzer.Pass) {
		for in := range p.File.Each("") {
			var sd instructions.SourcesAndDest
			switch c := in.Command.(type) {
			case *instructions.CopyCommand:
				sd = c.SourcesAndDest
			case *instructions.AddCommand:
				sd = c.SourcesAndDest
			default:
				continue
			}
			dest := sd.DestPath
			// BuildKit removes quotes around the destination when it
			// expands it; a stray quote is a path with a space that the
			// shell form split, which this rule leaves alone.
			bare := dest
			if len(dest) >= 2 && (dest[0] == '"' || dest[0] == '\'') && dest[len(dest)-1] == dest[0] {
				bare = dest[1 : len(dest)-1]
			}
			if len(sd.SourcePaths)+len(sd.SourceContents) < 2 || strings.HasSuffix(bare, "/") ||
				bare == "." || strings.ContainsAny(bare, "$\"'") || strings.HasSuffix(bare, "\\") {
				continue
			}
			var fix *analyzer.Fix
			// Heredocs mixed with paths usually mean a second destination
			// written by mistake ("<<A /a <<B /b"), not a directory.
			if end, ok := destEnd(p.File, in, dest); ok && bare == dest && (len(sd.SourceContents) == 0 || len(sd.SourcePaths) == 0) {
				fix = &analyzer.Fix{Message: "end the destination with /", Edits: []analyzer.TextEdit{{Start: end, End: end, New: "/"}}}
			}
			p.Report(in, in.Keyword+" copies several sources into "+bare+"; end the destination with / so that it is a directory", fix)
		}
	},
}

// destEnd finds the offset just after the destination as written at the
// end of the instruction's first logical line, in shell or JSON form.
func destEnd(d *analyzer.Dockerfile, in *analyzer.Instruction, dest string) (int, bool) {
	end := in.End
	if len(in.Heredocs) > 0 {
		end = d.LineEnd(in.StartLine)
	}
	text := strings.TrimRight(string(d.Source[in.ArgsStart:end]), " \t\r")
	if in.JSON {
		t, ok := strings.CutSuffix(text, "]")
		if !ok {
			return 0, false
		}
		t = strings.TrimRight(t, " \t")
		if t, ok = strings.CutSuffix(t, `"`); !ok || !strings.HasSuffix(t, dest) {
			return 0, false
		}
		return in.ArgsStart + len(t), true
	}
	if !strings.HasSuffix(text, dest) {
		return 0, false
	}
	return in.ArgsStart + len(text), true
}
