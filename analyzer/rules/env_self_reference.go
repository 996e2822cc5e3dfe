package rules

import (
	"sort"
	"strings"

	"github.com/dockopt/dockopt/analyzer"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/shell"
)

// EnvSelfReference mirrors hadolint DL3044.
var EnvSelfReference = &analyzer.Rule{
	ID:       "env-self-reference",
	Category: analyzer.CategoryReliability,
	Severity: analyzer.SeverityError,
	Title:    "ENV value refers to a variable defined in the same ENV",
	Rationale: `All values of one ENV instruction are expanded with the variables as they were before the ` +
		`instruction. In ENV A=1 B=$A, B does not see the new A: it gets an empty string (or an older value), ` +
		`which is rarely what the author meant and fails quietly at run time. Define the variable in an ` +
		`earlier ENV. A variable referring to its own previous value (PATH=$PATH:/x) is fine.`,
	Bad:         "FROM alpine:3.20\nENV APP_HOME=/app APP_BIN=$APP_HOME/bin\n",
	Good:        "FROM alpine:3.20\nENV APP_HOME=/app\nENV APP_BIN=$APP_HOME/bin\n",
	Equivalents: []string{"hadolint:DL3044"},
	Check: func(p *analyzer.Pass) {
		defined := map[string]bool{}
		lex := shell.NewLex(p.File.Escape)
		for in := range p.File.Each("") {
			switch c := in.Command.(type) {
			case *instructions.ArgCommand:
				for _, a := range c.Args {
					defined[a.Key] = true
				}
			case *instructions.EnvCommand:
				var bad []string
				for i, kv := range c.Env {
					res, err := lex.ProcessWordWithMatches(kv.Value, anyEnvB{})
					if err != nil {
						continue
					}
					for j, other := range c.Env {
						_, used := res.Matched[other.Key]
						if j != i && other.Key != kv.Key && !defined[other.Key] && used {
							bad = append(bad, "$"+other.Key+" in "+kv.Key)
						}
					}
				}
				for _, kv := range c.Env {
					defined[kv.Key] = true
				}
				if len(bad) > 0 {
					sort.Strings(bad)
					p.Report(in, "ENV expands "+strings.Join(bad, ", ")+" before this ENV sets it; define it in an earlier ENV", nil)
				}
			}
		}
	},
}

// anyEnvB resolves every variable to "", so that every reference shows up
// as a match.
type anyEnvB struct{}

func (anyEnvB) Get(string) (string, bool) { return "", true }
func (anyEnvB) Keys() []string            { return nil }
