package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"runtime"
	"strconv"

	"github.com/dockopt/dockopt/analyzer"
	"github.com/dockopt/dockopt/internal/workers"
)

// jsonVersion is bumped only for incompatible changes to the output.
const jsonVersion = 1

// jsonOutput is the document `--format json` writes (writeJSON writes it
// field by field).
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
	// NotApplied are the fixes the patch left out, and why: a finding
	// above may offer a fix that is among them (REPORT.md's "Not applied").
	NotApplied []jsonNotApplied `json:"not_applied,omitempty"`
}

// jsonNotApplied is one fix the patch did not apply. Line is the finding's
// line in the file the fix was tried on: the original for the first pass,
// else the file as the passes before had left it.
type jsonNotApplied struct {
	Rule    string `json:"rule"`
	Line    int    `json:"line"`
	Safety  string `json:"safety"`
	Message string `json:"message"`
	Reason  string `json:"reason"`
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

// jsonFileOf is one analyzed file as the JSON output gives it. groups
// numbers the finding groups in the order their first member is written,
// and collects each group once.
func jsonFileOf(f *analyzer.FileResult, notApplied []jsonNotApplied, groups map[*analyzer.FindingGroup]int, collected *[]jsonGroup) jsonFile {
	jf := jsonFile{Path: f.Path, Kind: f.Kind, Ecosystem: f.Ecosystem, Role: string(f.Role), Stages: f.Stages, Strengths: f.Strengths,
		Findings: make([]jsonFinding, 0, len(f.Findings)), Error: f.Error, Template: f.Template, NotApplied: notApplied}
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
				*collected = append(*collected, jsonGroup{ID: groups[g], Template: g.Template, Line: g.Line, EndLine: g.EndLine, Rule: g.Rule,
					Severity: g.Severity.String(), Message: g.Message, Withheld: string(g.Withheld), Files: g.Files})
			}
			jfd.Group, jfd.Repeats = groups[g], fd.Repeats()
		}
		jf.Findings = append(jf.Findings, jfd)
	}
	return jf
}

// writeJSON writes the jsonOutput of files, changes, builds and what was
// not covered, indented as json.Encoder.SetIndent("", "  ") writes it, one
// file at a time: the whole document, built and then indented in memory,
// was the peak of a large folder's run (two copies of megabytes of output
// on top of every file's findings).
func writeJSON(w io.Writer, files []*analyzer.FileResult, notApplied map[string][]jsonNotApplied, changes []jsonChange, builds []jsonBuild, nc notCovered) error {
	out := bufio.NewWriterSize(w, 64<<10)
	jw := &jsonWriter{w: out}
	jw.enc = json.NewEncoder(&jw.buf)
	jw.enc.SetEscapeHTML(false)
	jw.raw("{\n")
	jw.field("version", jsonVersion)
	groups := map[*analyzer.FindingGroup]int{}
	var collected []jsonGroup
	jw.key("files")
	jw.files(files, func(f *analyzer.FileResult) jsonFile { return jsonFileOf(f, notApplied[f.Path], groups, &collected) })
	jw.key("changes")
	jw.array(len(changes), func(i int) any { return changes[i] })
	if len(builds) > 0 {
		jw.key("builds")
		jw.array(len(builds), func(i int) any { return builds[i] })
	}
	if len(collected) > 0 {
		jw.field("groups", collected)
	}
	if len(nc.skipped) > 0 {
		jw.field("skipped", nc.skipped)
	}
	if len(nc.limits) > 0 {
		jw.field("limits", nc.limits)
	}
	jw.raw("\n}\n")
	if jw.err != nil {
		return jw.err
	}
	return out.Flush()
}

// jsonWriter writes one indented JSON object field by field. Values are
// encoded one at a time with the prefix of their depth, so the output is
// byte for byte what encoding the whole object would give.
type jsonWriter struct {
	w io.Writer
	// buf holds a value as enc writes it, compact; indented holds it
	// indented (appendIndented).
	buf      bytes.Buffer
	indented []byte
	enc      *json.Encoder
	fields   int
	err      error
}

func (jw *jsonWriter) raw(s string) {
	if jw.err == nil {
		_, jw.err = io.WriteString(jw.w, s)
	}
}

// key starts the next field of the top-level object.
func (jw *jsonWriter) key(name string) {
	if jw.fields > 0 {
		jw.raw(",\n")
	}
	jw.fields++
	jw.raw("  " + strconv.Quote(name) + ": ")
}

func (jw *jsonWriter) field(name string, v any) {
	jw.key(name)
	jw.value(v, "  ")
}

// value writes v indented for a place whose lines begin with prefix.
func (jw *jsonWriter) value(v any, prefix string) {
	if jw.err != nil {
		return
	}
	jw.buf.Reset()
	if jw.err = jw.enc.Encode(v); jw.err != nil {
		return
	}
	compact := bytes.TrimSuffix(jw.buf.Bytes(), []byte("\n"))
	jw.indented = appendIndented(jw.indented[:0], compact, prefix, "  ")
	_, jw.err = jw.w.Write(jw.indented)
}

// encodeWindow is how many files writeJSON encodes at once, on as many
// cores as there are, before it writes them in order: enough to keep the
// cores busy, few enough that the output held at a time stays a few
// hundred KiB.
const encodeWindow = 64

// files writes the files array as array would, the values made by fileOf
// in order (it numbers the finding groups as it meets them) and encoded in
// parallel a window at a time: encoding is most of what is left to do once
// every file is analyzed, and was done on one core while the others
// waited (a fortieth of a patched corpus's wall time).
func (jw *jsonWriter) files(files []*analyzer.FileResult, fileOf func(*analyzer.FileResult) jsonFile) {
	if len(files) == 0 {
		jw.raw("[]")
		return
	}
	jw.raw("[\n")
	cores := max(1, min(runtime.GOMAXPROCS(0), 4))
	values := make([]jsonFile, 0, encodeWindow)
	encoded := make([][]byte, encodeWindow)
	// Each worker encodes with its own encoder into its own buffer.
	bufs := make([]bytes.Buffer, cores)
	encs := make([]*json.Encoder, cores)
	for w := range encs {
		encs[w] = json.NewEncoder(&bufs[w])
		encs[w].SetEscapeHTML(false)
	}
	errs := make([]error, cores)
	for start := 0; start < len(files) && jw.err == nil; start += encodeWindow {
		window := files[start:min(start+encodeWindow, len(files))]
		values = values[:0]
		for _, f := range window {
			values = append(values, fileOf(f))
		}
		workers.Each(context.Background(), len(values), cores, func(w, i int) {
			if errs[w] != nil {
				return
			}
			bufs[w].Reset()
			if errs[w] = encs[w].Encode(values[i]); errs[w] == nil {
				encoded[i] = appendIndented(encoded[i][:0], bytes.TrimSuffix(bufs[w].Bytes(), []byte("\n")), "    ", "  ")
			}
		})
		if err := errors.Join(errs...); err != nil {
			jw.err = err
			return
		}
		for i := range values {
			if start+i > 0 {
				jw.raw(",\n")
			}
			jw.raw("    ")
			if jw.err == nil {
				_, jw.err = jw.w.Write(encoded[i])
			}
		}
	}
	jw.raw("\n  ]")
}

// array writes an array of n elements, element(i) encoded as it is reached.
func (jw *jsonWriter) array(n int, element func(i int) any) {
	if n == 0 {
		jw.raw("[]")
		return
	}
	jw.raw("[\n")
	for i := range n {
		if i > 0 {
			jw.raw(",\n")
		}
		jw.raw("    ")
		jw.value(element(i), "    ")
	}
	jw.raw("\n  ]")
}
