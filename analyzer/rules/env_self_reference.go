package rules

import (
	"sort"
	"strings"

	"github.com/dockopt/dockopt/analyzer"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
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
		`earlier ENV. A variable referring to its own previous value (PATH=$PATH:/x) is fine, unless the same ` +
		`ENV already set it: in ENV PATH=/a:$PATH PATH=/b:$PATH the first /a is lost.`,
	Bad:         "FROM alpine:3.20\nENV APP_HOME=/app APP_BIN=$APP_HOME/bin\n",
	Good:        "FROM alpine:3.20\nENV APP_HOME=/app\nENV APP_BIN=$APP_HOME/bin\n",
	Equivalents: []string{"hadolint:DL3044"},
	Fix:         analyzer.Review,
	Reads:       []string{"ENV"},
	Check: func(p *analyzer.Pass) {
		defined := map[string]bool{}
		for in := range p.File.Each("") {
			switch c := in.Command.(type) {
			case *instructions.ArgCommand:
				for _, a := range c.Args {
					defined[a.Key] = true
				}
			case *instructions.EnvCommand:
				var bad []string
				split := -1 // the first pair that needs an earlier one
				for i, kv := range c.Env {
					res, err := analyzer.ProcessWord(p.File.Escape, kv.Value, anyEnv{})
					if err != nil {
						continue
					}
					for j, other := range c.Env {
						_, used := res.Matched[other.Key]
						// A name set twice in one ENV reads the value from
						// before the ENV the second time, not the first one.
						setBefore := other.Key == kv.Key && j < i
						if j != i && used && (setBefore || other.Key != kv.Key && !defined[other.Key]) {
							where := kv.Key
							if setBefore {
								where = "the second " + kv.Key
							}
							bad = append(bad, "$"+other.Key+" in "+where)
							if j > i {
								split = -2 // needs reordering, not just a split
							} else if split == -1 {
								split = i
							}
						}
					}
				}
				for _, kv := range c.Env {
					defined[kv.Key] = true
				}
				if len(bad) > 0 {
					sort.Strings(bad)
					var fix *analyzer.Fix
					if split > 0 && in.Onbuild == nil {
						fix = splitEnvFix(p.File, in, len(c.Env), split)
					}
					p.Report(in, "ENV expands "+strings.Join(bad, ", ")+" before this ENV sets it; define it in an earlier ENV", fix)
				}
			}
		}
	},
}

// anyEnv resolves every variable to "", so that every reference shows up
// as a match.
type anyEnv struct{}

func (anyEnv) Get(string) (string, bool) { return "", true }
func (anyEnv) Keys() []string            { return nil }

// splitEnvFix starts a new ENV before pair number at, so that the pairs
// after it see the values set before it. It gives up unless the source
// words match the parsed pairs one to one.
func splitEnvFix(d *analyzer.Dockerfile, in *analyzer.Instruction, pairs, at int) *analyzer.Fix {
	words := envWordSpans(d, in.ArgsStart, in.End)
	if len(words) != pairs || len(in.Heredocs) > 0 {
		return nil
	}
	for _, w := range words {
		if !strings.Contains(string(d.Source[w[0]:w[1]]), "=") {
			return nil
		}
	}
	return &analyzer.Fix{
		Message: "split the ENV so that the later values see the earlier ones, as was probably meant",
		Edits: []analyzer.TextEdit{{
			Start: words[at-1][1], End: words[at][0],
			New: d.Newline() + d.Indent(in.StartLine) + in.Written + " ",
		}},
	}
}

// envWordSpans splits [start,end) into words the way the Dockerfile parser
// does for ENV: white space and line continuations separate words, quotes
// and the escape character protect them. It returns nil on comment lines
// inside the instruction, which it does not try to follow.
func envWordSpans(d *analyzer.Dockerfile, start, end int) [][2]int {
	src := d.Source
	esc := byte(d.Escape)
	var out [][2]int
	i := start
	for i < end {
		for i < end && (src[i] == ' ' || src[i] == '\t' || src[i] == '\r' || src[i] == '\n' || src[i] == esc && continuationByte(src, i, end)) {
			if src[i] == '\n' {
				j := i + 1
				for j < end && (src[j] == ' ' || src[j] == '\t') {
					j++
				}
				if j < end && src[j] == '#' {
					return nil
				}
			}
			i++
		}
		if i >= end {
			break
		}
		w := i
		var quote byte
		for i < end {
			c := src[i]
			switch {
			case quote != 0:
				if c == esc && quote == '"' && i+1 < end {
					i++
				} else if c == quote {
					quote = 0
				}
			case c == '"' || c == '\'':
				quote = c
			case c == esc && continuationByte(src, i, end):
				goto done
			case c == esc && i+1 < end:
				i++
			case c == ' ' || c == '\t' || c == '\r' || c == '\n':
				goto done
			}
			i++
		}
	done:
		if quote != 0 {
			return nil
		}
		out = append(out, [2]int{w, i})
	}
	return out
}

// continuationByte reports an escape character that ends its line.
func continuationByte(src []byte, i, end int) bool {
	j := i + 1
	for j < end && (src[j] == ' ' || src[j] == '\t' || src[j] == '\r') {
		j++
	}
	return j >= end || src[j] == '\n'
}
