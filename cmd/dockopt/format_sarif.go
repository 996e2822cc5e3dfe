package main

import (
	"encoding/json"
	"io"
	"strings"

	"github.com/dockopt/dockopt/analyzer"
)

// SARIF 2.1.0 as GitHub code scanning accepts it. Results is always an
// array, even when empty: an empty SARIF without it has broken uploads.
type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool        sarifTool         `json:"tool"`
	Invocations []sarifInvocation `json:"invocations,omitempty"`
	Results     []sarifResult     `json:"results"`
	ColumnKind  string            `json:"columnKind"`
}

// sarifInvocation carries what the analysis did not cover, as
// notifications: files not analyzed and limits reached.
type sarifInvocation struct {
	ExecutionSuccessful        bool                `json:"executionSuccessful"`
	ToolExecutionNotifications []sarifNotification `json:"toolExecutionNotifications"`
}

type sarifNotification struct {
	Level     string          `json:"level"`
	Message   sarifText       `json:"message"`
	Locations []sarifLocation `json:"locations,omitempty"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	Version        string      `json:"version"`
	InformationURI string      `json:"informationUri"`
	Rules          []sarifRule `json:"rules"`
}

type sarifText struct {
	Text     string `json:"text"`
	Markdown string `json:"markdown,omitempty"`
}

type sarifRule struct {
	ID                   string          `json:"id"`
	Name                 string          `json:"name"`
	ShortDescription     sarifText       `json:"shortDescription"`
	FullDescription      sarifText       `json:"fullDescription"`
	Help                 sarifText       `json:"help"`
	DefaultConfiguration sarifConfig     `json:"defaultConfiguration"`
	Properties           sarifProperties `json:"properties"`
}

type sarifConfig struct {
	Level string `json:"level"`
}

type sarifProperties struct {
	Tags             []string `json:"tags"`
	Precision        string   `json:"precision"`
	SecuritySeverity string   `json:"security-severity,omitempty"`
}

type sarifResult struct {
	RuleID    string          `json:"ruleId"`
	RuleIndex int             `json:"ruleIndex"`
	Level     string          `json:"level"`
	Message   sarifText       `json:"message"`
	Locations []sarifLocation `json:"locations"`
	Fixes     []sarifFix      `json:"fixes,omitempty"`
}

type sarifLocation struct {
	PhysicalLocation sarifPhysical `json:"physicalLocation"`
}

type sarifPhysical struct {
	ArtifactLocation sarifArtifactLoc `json:"artifactLocation"`
	Region           *sarifRegion     `json:"region,omitempty"`
}

type sarifArtifactLoc struct {
	URI       string `json:"uri"`
	URIBaseID string `json:"uriBaseId,omitempty"`
}

type sarifRegion struct {
	StartLine int `json:"startLine"`
	EndLine   int `json:"endLine"`
}

type sarifFix struct {
	Description     sarifText             `json:"description"`
	ArtifactChanges []sarifArtifactChange `json:"artifactChanges"`
}

type sarifArtifactChange struct {
	ArtifactLocation sarifArtifactLoc   `json:"artifactLocation"`
	Replacements     []sarifReplacement `json:"replacements"`
}

type sarifReplacement struct {
	DeletedRegion   sarifByteRegion `json:"deletedRegion"`
	InsertedContent *sarifText      `json:"insertedContent,omitempty"`
}

type sarifByteRegion struct {
	ByteOffset int `json:"byteOffset"`
	ByteLength int `json:"byteLength"`
}

func sarifLevel(s analyzer.Severity) string {
	switch s {
	case analyzer.SeverityError:
		return "error"
	case analyzer.SeverityWarning:
		return "warning"
	}
	return "note"
}

// writeSARIF writes every rule of the catalog (so code scanning can show
// help for any of them) and one result per finding, with fixes as byte
// replacements.
func writeSARIF(w io.Writer, all []*analyzer.Rule, files []*analyzer.FileResult, nc notCovered) error {
	driver := sarifDriver{Name: "dockopt", Version: moduleVersion(), InformationURI: "https://github.com/dockopt/dockopt", Rules: []sarifRule{}}
	index := map[string]int{}
	for i, r := range all {
		index[r.ID] = i
		props := sarifProperties{Tags: append([]string{string(r.Category)}, r.Equivalents...), Precision: "high"}
		if r.Category == analyzer.CategorySecurity {
			props.SecuritySeverity = map[analyzer.Severity]string{analyzer.SeverityError: "8.0", analyzer.SeverityWarning: "5.0", analyzer.SeverityInfo: "2.0"}[r.Severity]
			props.Tags = append(props.Tags, "security")
		}
		doc := RuleDoc(r)
		driver.Rules = append(driver.Rules, sarifRule{
			ID: r.ID, Name: sarifRuleName(r.ID),
			ShortDescription:     sarifText{Text: r.Title},
			FullDescription:      sarifText{Text: r.Rationale},
			Help:                 sarifText{Text: r.Rationale, Markdown: doc},
			DefaultConfiguration: sarifConfig{Level: sarifLevel(r.Severity)},
			Properties:           props,
		})
	}
	run := sarifRun{Tool: sarifTool{Driver: driver}, Results: []sarifResult{}, ColumnKind: "utf16CodeUnits"}
	for _, f := range files {
		for _, fd := range f.Findings {
			fd, ok := fd.Once()
			if !ok {
				continue
			}
			loc := sarifArtifactLoc{URI: fd.Path, URIBaseID: "%SRCROOT%"}
			res := sarifResult{RuleID: fd.Rule, RuleIndex: index[fd.Rule], Level: sarifLevel(fd.Severity),
				Message: sarifText{Text: fd.Message},
				Locations: []sarifLocation{{PhysicalLocation: sarifPhysical{ArtifactLocation: loc,
					Region: &sarifRegion{StartLine: max(fd.Line, 1), EndLine: max(fd.EndLine, fd.Line, 1)}}}}}
			if fd.Fix != nil && len(fd.Fix.Edits) > 0 {
				change := sarifArtifactChange{ArtifactLocation: loc}
				for _, e := range fd.Fix.Edits {
					rep := sarifReplacement{DeletedRegion: sarifByteRegion{ByteOffset: e.Start, ByteLength: e.End - e.Start}}
					if e.New != "" {
						rep.InsertedContent = &sarifText{Text: e.New}
					}
					change.Replacements = append(change.Replacements, rep)
				}
				res.Fixes = []sarifFix{{Description: sarifText{Text: fd.Fix.Message}, ArtifactChanges: []sarifArtifactChange{change}}}
			}
			run.Results = append(run.Results, res)
		}
	}
	notify := func(level, path, msg string) {
		n := sarifNotification{Level: level, Message: sarifText{Text: msg}}
		if path != "" {
			n.Message.Text = path + ": " + msg
			n.Locations = []sarifLocation{{PhysicalLocation: sarifPhysical{ArtifactLocation: sarifArtifactLoc{URI: path, URIBaseID: "%SRCROOT%"}}}}
		}
		if len(run.Invocations) == 0 {
			run.Invocations = []sarifInvocation{{ExecutionSuccessful: true, ToolExecutionNotifications: []sarifNotification{}}}
		}
		run.Invocations[0].ToolExecutionNotifications = append(run.Invocations[0].ToolExecutionNotifications, n)
	}
	for _, s := range nc.skipped {
		notify("warning", s.Path, "not analyzed: "+s.Reason)
	}
	for _, l := range nc.limits {
		notify("note", l.Path, l.Message)
	}
	log := sarifLog{Schema: "https://json.schemastore.org/sarif-2.1.0.json", Version: "2.1.0", Runs: []sarifRun{run}}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(log)
}

// sarifRuleName turns an ID into the PascalCase name SARIF viewers show.
func sarifRuleName(id string) string {
	var b strings.Builder
	for _, part := range strings.Split(id, "-") {
		if part != "" {
			b.WriteString(strings.ToUpper(part[:1]) + part[1:])
		}
	}
	return b.String()
}
