package rules

import (
	"github.com/dockopt/dockopt/analyzer"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
)

// Queries on LABEL values, and the rule shape the label-schema rules share.

// dockerWord evaluates a LABEL or ENV word the way BuildKit does, with no
// variables defined; dynamic is true when it refers to any variable.
func dockerWord(d *analyzer.Dockerfile, raw string) (value string, dynamic bool) {
	res, err := analyzer.ProcessWord(d.Escape, raw, noEnv{})
	if err != nil {
		return raw, true
	}
	return res.Result, len(res.Matched) > 0 || len(res.Unmatched) > 0
}

// noEnv is an environment in which no variable is set.
type noEnv struct{}

func (noEnv) Get(string) (string, bool) { return "", false }
func (noEnv) Keys() []string            { return nil }

// labelPair is one key=value of a LABEL with quotes removed.
type labelPair struct {
	Key, Value string
	// Dynamic is true when the key or value uses a build variable, whose
	// value is only known at build time.
	Dynamic bool
}

// labelPairs returns the labels an instruction sets.
func labelPairs(d *analyzer.Dockerfile, in *analyzer.Instruction) []labelPair {
	c, ok := in.Command.(*instructions.LabelCommand)
	if !ok {
		return nil
	}
	var out []labelPair
	for _, kv := range c.Labels {
		k, kd := dockerWord(d, kv.Key)
		v, vd := dockerWord(d, kv.Value)
		out = append(out, labelPair{Key: k, Value: v, Dynamic: kd || vd})
	}
	return out
}

// schemaLabels yields every LABEL pair whose key the configured label
// schema gives the type typ ("" for any type).
func schemaLabels(p *analyzer.Pass, typ string, visit func(in *analyzer.Instruction, lp labelPair)) {
	if p.Config == nil || len(p.Config.LabelSchema) == 0 {
		return
	}
	for in := range p.File.Each("LABEL") {
		for _, lp := range labelPairs(p.File, in) {
			t, ok := p.Config.LabelSchema[lp.Key]
			if ok && (typ == "" || t == typ) {
				visit(in, lp)
			}
		}
	}
}

// labelValueRule builds a rule that checks the values of the labels the
// label schema gives type typ; valid says whether a value conforms and
// want describes the expected form for messages.
func labelValueRule(r *analyzer.Rule, typ, want string, valid func(string) bool) *analyzer.Rule {
	r.Check = func(p *analyzer.Pass) {
		schemaLabels(p, typ, func(in *analyzer.Instruction, lp labelPair) {
			if lp.Dynamic || valid(lp.Value) {
				return
			}
			p.Reportf(in, "label %s is %q, which is not %s", lp.Key, lp.Value, want)
		})
	}
	return r
}
