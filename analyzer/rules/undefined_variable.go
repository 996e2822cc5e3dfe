package rules

import (
	"fmt"
	"strings"

	"github.com/dockopt/dockopt/analyzer"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
)

// UndefinedVariable mirrors BuildKit's UndefinedVar check, keeping only the
// warnings that hold whatever the base image is.
var UndefinedVariable = &analyzer.Rule{
	ID:       "undefined-variable",
	Category: analyzer.CategoryReliability,
	Severity: analyzer.SeverityWarning,
	Title:    "Variable used before it is defined",
	Rationale: `A $VARIABLE in ENV, COPY, WORKDIR and the like that is neither an ARG nor an ENV expands to an empty ` +
		`string: files land in the wrong directory and paths silently lose a component. BuildKit reports these, ` +
		`but offline it cannot see the base image's environment, so it also flags $JAVA_HOME or $GOPATH that ` +
		`the real image defines. dockopt reports only what it can know: uses in stages built from scratch (whose ` +
		`environment is all in the file), and likely typos, where BuildKit suggests a name the Dockerfile declares.`,
	Bad:         "FROM alpine:3.20\nARG APP_DIR=/srv/app\nWORKDIR $APP_DRI\n",
	Good:        "FROM alpine:3.20\nARG APP_DIR=/srv/app\nWORKDIR $APP_DIR\n",
	Equivalents: []string{"buildkit:UndefinedVar"},
	// Correcting a likely typo is a guess a person should confirm.
	Fix: analyzer.Review,
	Check: func(p *analyzer.Pass) {
		declared := declaredNames(p.File)
		mirrorBuildKit(p, "UndefinedVar", func(w analyzer.BuildKitWarning, in *analyzer.Instruction) (string, *analyzer.Fix, bool) {
			name := strings.TrimPrefix(quotedValue(w.Message), "$")
			if s := suggestion(w.Message); s != "" && declared[s] && likelyTypo(name, s) {
				var fix *analyzer.Fix
				if in != nil {
					fix = renameVarFix(p.File, in, name, s)
				}
				return fmt.Sprintf("$%s is not defined; did you mean $%s, which this Dockerfile declares?", name, s), fix, true
			}
			if in != nil && in.Stage != nil && in.Stage.Root().Base.IsScratch() {
				return fmt.Sprintf("$%s is not defined in this stage, which starts from scratch, so it expands to an empty string; declare it with ARG or ENV", name), nil, true
			}
			// The base image may well define it: a real build would not warn.
			return "", nil, false
		})
	},
}

// declaredNames are the names every ARG and ENV of the file declares.
func declaredNames(d *analyzer.Dockerfile) map[string]bool {
	names := map[string]bool{}
	for in := range d.Each("") {
		switch c := in.Command.(type) {
		case *instructions.ArgCommand:
			for _, kv := range c.Args {
				names[kv.Key] = true
			}
		case *instructions.EnvCommand:
			for _, kv := range c.Env {
				names[kv.Key] = true
			}
		}
	}
	return names
}

// likelyTypo tells a misspelling (APP_DRI for APP_DIR) from a different
// variable that merely resembles a declared one ($GOPATH, which the golang
// image defines, next to a declared PATH): a typo keeps about the same
// length and is not a longer or shorter name built around the other.
func likelyTypo(used, declared string) bool {
	if d := len(used) - len(declared); d > 1 || d < -1 {
		return false
	}
	return !strings.Contains(used, declared) && !strings.Contains(declared, used)
}
