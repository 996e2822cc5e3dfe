package rules

import (
	"fmt"
	"strings"

	"github.com/dockopt/dockopt/analyzer"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
)

// LegacyKeyValueFormat mirrors BuildKit's LegacyKeyValueFormat check.
var LegacyKeyValueFormat = &analyzer.Rule{
	ID:       "legacy-key-value-format",
	Category: analyzer.CategoryMaintainability,
	Severity: analyzer.SeverityWarning,
	Title:    "ENV or LABEL in the legacy space-separated form",
	Rationale: `"ENV NAME value" sets one variable to the whole rest of the line, while "ENV NAME=value OTHER=x" ` +
		`sets several; the two forms look alike and are easy to confuse when a line is edited ("ENV PATH /a:$PATH ` +
		`FOO=1" silently puts "FOO=1" into PATH). BuildKit deprecates the legacy form. The key=value form says ` +
		`exactly where each value ends.`,
	Bad:         "FROM alpine:3.20\nENV APP_HOME /srv/app\nLABEL description Example service\n",
	Good:        "FROM alpine:3.20\nENV APP_HOME=/srv/app\nLABEL description=\"Example service\"\n",
	Equivalents: []string{"buildkit:LegacyKeyValueFormat"},
	Fix:         analyzer.Safe,
	Check: func(p *analyzer.Pass) {
		for _, in := range p.File.Instructions {
			var pairs instructions.KeyValuePairs
			switch c := in.Command.(type) {
			case *instructions.EnvCommand:
				pairs = c.Env
			case *instructions.LabelCommand:
				pairs = c.Labels
			default:
				continue
			}
			for _, kv := range pairs {
				if !kv.NoDelim {
					continue
				}
				msg := fmt.Sprintf("%s %s uses the legacy space-separated form; write %s %s=…", in.Written, kv.Key, in.Written, kv.Key)
				if script, line := p.Facts().UpdatedInPlace(in.Keyword, kv.Key); script != "" {
					p.ReportWithheld(in, fmt.Sprintf("%s; no fix: %s rewrites this line in place (%s), and its pattern would stop matching the key=value form, so the next update would silently be skipped; change both together",
						msg, script, shortEvidence(line)), analyzer.PreconditionGenerated)
					continue
				}
				p.Report(in, msg, legacyKeyValueFix(p.File, in))
			}
		}
	},
}

// legacyKeyValueFix rewrites `KEY value words` as `KEY="value words"` (or
// KEY=value for one word). It declines values with quotes or escapes, whose
// meaning would need re-quoting, and values continued over several lines.
func legacyKeyValueFix(d *analyzer.Dockerfile, in *analyzer.Instruction) *analyzer.Fix {
	if in.StartLine != in.EndLine || len(in.Heredocs) > 0 {
		return nil
	}
	text := string(d.Source[in.ArgsStart:in.ContentEnd(d.Source)])
	text = strings.TrimRight(text, " \t\r")
	key, rest, ok := strings.Cut(text, " ")
	if k, r, tab := strings.Cut(text, "\t"); tab && (!ok || len(k) < len(key)) {
		key, rest, ok = k, r, true
	}
	if !ok || strings.Contains(key, "=") {
		return nil
	}
	value := strings.TrimLeft(rest, " \t")
	if value == "" || strings.ContainsRune(value, d.Escape) {
		return nil
	}
	quoted := singleQuotedWord(value)
	if !quoted && strings.ContainsAny(value, `"'`) {
		return nil
	}
	sepStart := in.ArgsStart + len(key)
	valueStart := in.ArgsStart + len(text) - len(value)
	valueEnd := in.ArgsStart + len(text)
	edits := []analyzer.TextEdit{{Start: sepStart, End: valueStart, New: "="}}
	if !quoted && strings.ContainsAny(value, " \t") {
		edits[0].New = `="`
		edits = append(edits, analyzer.TextEdit{Start: valueEnd, End: valueEnd, New: `"`})
	}
	return &analyzer.Fix{Message: "use the key=value form", Edits: edits}
}

// singleQuotedWord reports whether v is one quoted word, "…" or '…', with no
// other quote inside: it keeps its meaning after KEY=.
func singleQuotedWord(v string) bool {
	if len(v) < 2 || (v[0] != '"' && v[0] != '\'') || v[len(v)-1] != v[0] {
		return false
	}
	return !strings.ContainsAny(v[1:len(v)-1], `"'`)
}

// shortEvidence is a script line quoted in a message, cut to a readable
// length.
func shortEvidence(line string) string {
	const limit = 100
	if r := []rune(line); len(r) > limit {
		line = string(r[:limit]) + "…"
	}
	return "`" + strings.ReplaceAll(line, "`", "'") + "`"
}
