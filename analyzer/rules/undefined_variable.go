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
		unrenamable := map[string][]int{} // by name, read once
		mirrorBuildKit(p, "UndefinedVar", func(w analyzer.BuildKitWarning, in *analyzer.Instruction) (string, *analyzer.Fix, bool) {
			name := strings.TrimPrefix(quotedValue(w.Message), "$")
			if s := suggestion(w.Message); s != "" && declared[s] && likelyTypo(name, s) {
				var fix *analyzer.Fix
				if in != nil && in.Keyword != "COPY" && in.Keyword != "ADD" {
					// In a COPY or ADD the name may stand in a source
					// path, which the rename would point elsewhere.
					fix = renameVarFix(p.File, in, name, s)
				}
				msg := fmt.Sprintf("$%s is not defined; did you mean $%s, which this Dockerfile declares?", name, s)
				if _, ok := unrenamable[name]; !ok {
					unrenamable[name] = unrenamableUses(p.File, name)
				}
				if line := otherLine(unrenamable[name], in); fix != nil && line != 0 {
					// Renaming only some uses would split what the author
					// meant as one value in two.
					fix = nil
					msg += fmt.Sprintf(" (no fix: line %d uses it too, where it cannot be renamed)", line)
				}
				switch {
				case in != nil && (in.Keyword == "COPY" || in.Keyword == "ADD"):
					msg += " (no fix: in a " + in.Keyword + " it may name a source path, which the rename would point elsewhere)"
				case in != nil && fix == nil && hasModifier(in.Text(p.File.Source), name):
					msg += " (no fix: a ${" + name + ":-…} form gives it a meaning of its own, which the rename would change)"
				}
				return msg, fix, true
			}
			if in != nil && in.Stage != nil && in.Stage.Root().Base.IsScratch() {
				return fmt.Sprintf("$%s is not defined in this stage, which starts from scratch, so it expands to an empty string; declare it with ARG or ENV", name), nil, true
			}
			// The base image may well define it: a real build would not warn.
			return "", nil, false
		})
	},
}

// hasModifier reports ${name:-…} and the other forms that give an unset
// name a value of their own.
func hasModifier(text, name string) bool {
	for _, op := range []string{":-", ":+", ":?", "-", "+", "?"} {
		if strings.Contains(text, "${"+name+op) {
			return true
		}
	}
	return false
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
// image defines, next to a declared PATH, or $CX next to a declared LD): a
// typo is one slip (a letter wrong, missing, added, or two swapped) in a
// name long enough that one slip leaves it recognisable, and not a longer
// or shorter name built around the other ($NODE_ENVS, $NODE_ENV).
func likelyTypo(used, declared string) bool {
	return min(len(used), len(declared)) >= 4 && slips(used, declared) == 1 &&
		!strings.Contains(used, declared) && !strings.Contains(declared, used)
}

// slips is the edit distance between a and b that counts swapping two
// neighbouring letters as one edit (optimal string alignment).
func slips(a, b string) int {
	rows := make([][]int, len(a)+1)
	for i := range rows {
		rows[i] = make([]int, len(b)+1)
		rows[i][0] = i
	}
	for j := range rows[0] {
		rows[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			rows[i][j] = min(rows[i-1][j]+1, rows[i][j-1]+1, rows[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				rows[i][j] = min(rows[i][j], rows[i-2][j-2]+1)
			}
		}
	}
	return rows[len(a)][len(b)]
}

// unrenamableUses returns the first two lines of instructions that use
// $name where the rename is not made (a COPY or ADD, or a ${name:-…}
// form): two, so that every instruction finds one other than itself.
func unrenamableUses(d *analyzer.Dockerfile, name string) []int {
	var lines []int
	for x := range d.Each("") {
		text := x.Text(d.Source)
		if !usesVar(text, name) {
			continue
		}
		if x.Keyword == "COPY" || x.Keyword == "ADD" || hasModifier(text, name) {
			if lines = append(lines, x.StartLine); len(lines) == 2 {
				break
			}
		}
	}
	return lines
}

// otherLine returns the first of lines that is not in's, 0 for none.
func otherLine(lines []int, in *analyzer.Instruction) int {
	for _, l := range lines {
		if in == nil || l != in.StartLine {
			return l
		}
	}
	return 0
}

// usesVar reports $name or ${name…} in text, name as a whole word.
func usesVar(text, name string) bool {
	for i := 0; ; {
		j := strings.Index(text[i:], name)
		if j < 0 {
			return false
		}
		j += i
		end := j + len(name)
		before := j > 0 && (text[j-1] == '$' || text[j-1] == '{' && j > 1 && text[j-2] == '$')
		after := end == len(text) || !isVarNameByte(text[end])
		if before && after {
			return true
		}
		i = j + 1
	}
}
