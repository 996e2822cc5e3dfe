package analyzer

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"path"
	"reflect"
	"slices"
	"strings"

	"github.com/moby/patternmatcher"
	"gopkg.in/yaml.v3"
)

// MaxConfigSize bounds a configuration file; it is hostile input like any other.
const MaxConfigSize = 256 << 10

// MaxConfigNodes bounds a configuration's size with its aliases expanded. A
// few hundred KB of YAML can name one anchor of thousands of items thousands
// of times; decoding expands every reference, so the bound is checked on
// the parsed tree, where an alias is still one node, before anything is
// decoded. Real configurations have a few hundred nodes.
const MaxConfigNodes = 100_000

// ConfigPaths are where a repository configures dockopt, first found wins.
var ConfigPaths = []string{".github/dockopt.yml", ".github/dockopt.yaml", ".dockopt.yml", ".dockopt.yaml"}

// HadolintConfigPaths are read as well, so that a hadolint set-up carries over.
var HadolintConfigPaths = []string{".hadolint.yaml", ".hadolint.yml", ".config/hadolint.yaml"}

// Config is a repository's dockopt configuration.
type Config struct {
	// Enabled false opts a repository out: the App publishes nothing for
	// it. nil means on; an organization's default can switch it off and a
	// repository back on.
	Enabled *bool `yaml:"enabled"`
	// Checks says what fails the check run.
	Checks CheckPolicy `yaml:"checks"`
	// Rules turns rules off or changes their severity, by ID or equivalent.
	Rules map[string]RuleSetting `yaml:"rules"`
	// Ignore lists rule waivers by path, written by `/dockopt ignore`.
	Ignore []IgnoreEntry `yaml:"ignore"`
	// IgnorePaths are glob patterns of files dockopt never analyzes.
	IgnorePaths []string `yaml:"ignore_paths"`
	// InlineIgnores is the admin switch for `# dockopt ignore=` and
	// `# hadolint ignore=` comments; nil means on.
	InlineIgnores *bool `yaml:"inline_ignores"`
	// FailureThreshold is the lowest severity that fails the check run and
	// the CLI exit code. Default: warning, so info findings (pinning OS
	// packages, new rules) never fail a build.
	FailureThreshold *Severity `yaml:"failure_threshold"`
	Fixes            FixPolicy `yaml:"fixes"`
	Output           Output    `yaml:"output"`
	PullRequest      PRConfig  `yaml:"pull_request"`
	// Compose configures the optional hardening of compose files that
	// build the analyzed Dockerfiles.
	Compose ComposeConfig `yaml:"compose"`
	// TrustedRegistries, when set, limits FROM to these registries.
	TrustedRegistries []string `yaml:"trusted_registries"`
	// LabelSchema requires labels and gives their type: text, url, email,
	// semver, rfc3339, hash, spdx.
	LabelSchema  map[string]string `yaml:"label_schema"`
	StrictLabels bool              `yaml:"strict_labels"`

	// Sources names the files this configuration was read from.
	Sources []string `yaml:"-"`
	// Warnings are problems that did not stop loading; the CLI prints them
	// and the check run shows them.
	Warnings []string `yaml:"-"`

	// set records which settings without a pointer or empty value of their
	// own the file wrote, so that Merge lets a repository's file override
	// an organization's default with the default's own value.
	set written
}

// written lists the settings a file wrote whose Go value cannot tell
// "absent" from "the default".
type written struct {
	mode, apply, labels, reviewers, draft, strictLabels, harden bool
}

// presence is decoded beside Config, leniently, to learn which of those
// settings a file wrote.
type presence struct {
	Fixes struct {
		Apply *string `yaml:"apply"`
	} `yaml:"fixes"`
	Output struct {
		Mode *string `yaml:"mode"`
	} `yaml:"output"`
	PullRequest struct {
		Labels    *[]string `yaml:"labels"`
		Reviewers *[]string `yaml:"reviewers"`
		Draft     *bool     `yaml:"draft"`
	} `yaml:"pull_request"`
	Compose struct {
		Harden *bool `yaml:"harden"`
	} `yaml:"compose"`
	StrictLabels *bool `yaml:"strict_labels"`
}

func (p presence) written() written {
	return written{mode: p.Output.Mode != nil, apply: p.Fixes.Apply != nil, labels: p.PullRequest.Labels != nil,
		reviewers: p.PullRequest.Reviewers != nil, draft: p.PullRequest.Draft != nil, strictLabels: p.StrictLabels != nil,
		harden: p.Compose.Harden != nil}
}

// CheckPolicy says which findings fail the check run.
type CheckPolicy struct {
	// FailOn is "new" (default): only findings a change introduces fail
	// it; "all": every finding at or above the failure threshold does;
	// "never": findings are reported and never fail it.
	FailOn string `yaml:"fail_on"`
}

// The values of checks.fail_on.
const (
	FailOnNew   = "new"
	FailOnAll   = "all"
	FailOnNever = "never"
)

// FailOn returns checks.fail_on, FailOnNew when unset.
func (c *Config) FailOn() string {
	if c == nil || c.Checks.FailOn == "" {
		return FailOnNew
	}
	return c.Checks.FailOn
}

// IsEnabled reports whether the repository wants dockopt at all.
func (c *Config) IsEnabled() bool { return c == nil || c.Enabled == nil || *c.Enabled }

// RuleSetting is `off`, a severity, or a mapping with severity and paths.
type RuleSetting struct {
	Severity    *Severity `yaml:"severity"`
	IgnorePaths []string  `yaml:"ignore_paths"`
}

func (r *RuleSetting) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n.Kind == yaml.ScalarNode {
		var s Severity
		if err := s.UnmarshalText([]byte(n.Value)); err != nil {
			return fmt.Errorf("line %d: %v", n.Line, err)
		}
		r.Severity = &s
		return nil
	}
	// yaml.v3 does not carry the outer decoder's KnownFields into a custom
	// unmarshaler, so the keys are checked here, on the node: re-encoding
	// the node to decode it strictly would expand its aliases outside the
	// decoder's own guard.
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: a rule setting is a severity or a mapping with severity and ignore_paths", n.Line)
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		switch k := n.Content[i]; k.Value {
		case "severity", "ignore_paths":
		default:
			return fmt.Errorf("line %d: field %s not found in a rule setting (want severity, ignore_paths)", k.Line, k.Value)
		}
	}
	type plain RuleSetting
	var p plain
	if err := n.Decode(&p); err != nil {
		return fmt.Errorf("line %d: %v", n.Line, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	*r = RuleSetting(p)
	return nil
}

// IgnoreEntry waives a rule, optionally only under a path glob.
type IgnoreEntry struct {
	Rule   string `yaml:"rule"`
	Path   string `yaml:"path,omitempty"`
	Reason string `yaml:"reason,omitempty"`
}

// FixPolicy says which fixes are applied.
type FixPolicy struct {
	// Apply is "safe" or "review" (both); default review.
	Apply Safety `yaml:"apply"`
}

// Output says how changes are delivered.
type Output struct {
	// Mode: "pull-request" (default), "check-only" (annotations only, a
	// button opens the PR on demand), "sibling" (Dockerfile.optimized
	// next to each original).
	Mode string `yaml:"mode"`
}

// ComposeConfig turns on compose hardening (a review change): dropped
// capabilities, read-only root file system, no-new-privileges, health
// checks and memory limits on the services that build these images.
type ComposeConfig struct {
	Harden bool `yaml:"harden"`
}

// PRConfig shapes the pull request.
type PRConfig struct {
	Labels    []string `yaml:"labels"`
	Reviewers []string `yaml:"reviewers"`
	Draft     bool     `yaml:"draft"`
}

// DefaultConfig is what applies when a repository configures nothing.
func DefaultConfig() *Config {
	return &Config{Fixes: FixPolicy{Apply: Review}, Output: Output{Mode: "pull-request"}}
}

// Threshold returns the configured failure threshold, warning by default.
func (c *Config) Threshold() Severity {
	if c == nil || c.FailureThreshold == nil {
		return SeverityWarning
	}
	return *c.FailureThreshold
}

// InlineIgnoresEnabled reports whether inline ignore comments are honoured.
func (c *Config) InlineIgnoresEnabled() bool {
	return c == nil || c.InlineIgnores == nil || *c.InlineIgnores
}

// ConfigError is a configuration problem with its file and line.
type ConfigError struct {
	File string
	Line int
	Msg  string
}

func (e *ConfigError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}

// ParseConfig reads a dockopt configuration. Unknown keys are errors, with
// the line they are on, so that a typo never silently does nothing.
func ParseConfig(name string, b []byte) (*Config, error) {
	if len(b) > MaxConfigSize {
		return nil, &ConfigError{File: name, Msg: fmt.Sprintf("file is larger than %d KiB", MaxConfigSize>>10)}
	}
	cfg := DefaultConfig()
	root, err := decodeBounded(name, b, cfg, true)
	if err != nil {
		return nil, err
	}
	if err := cfg.validate(); err != nil {
		return nil, &ConfigError{File: name, Msg: err.Error()}
	}
	if root != nil {
		// The strict decode above already refused every malformed value,
		// so this one cannot fail on what it reads.
		var p presence
		_ = root.Decode(&p)
		cfg.set = p.written()
	}
	cfg.Sources = []string{name}
	return cfg, nil
}

// decodeBounded decodes the first YAML document of b into v, refusing a
// document whose aliases expand past MaxConfigNodes, further documents
// (which would otherwise be silently ignored) and, when strict, unknown
// fields. It returns the document's root, nil for an empty file.
func decodeBounded(name string, b []byte, v any, strict bool) (*yaml.Node, error) {
	var docs []*yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(b))
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, yamlError(name, err)
		}
		docs = append(docs, &doc)
	}
	if len(docs) == 0 {
		return nil, nil
	}
	if len(docs) > 1 {
		return nil, &ConfigError{File: name, Line: docs[1].Line, Msg: fmt.Sprintf("the file holds %d YAML documents; a configuration is one document (remove the `---` separators)", len(docs))}
	}
	if n := expandedNodes(docs[0], map[*yaml.Node]int{}); n > MaxConfigNodes {
		return nil, &ConfigError{File: name, Msg: fmt.Sprintf("the configuration expands to more than %d YAML nodes through its aliases (&anchor/*alias); write it out plainly", MaxConfigNodes)}
	}
	full := yaml.NewDecoder(bytes.NewReader(b))
	full.KnownFields(strict)
	if err := full.Decode(v); err != nil && !errors.Is(err, io.EOF) {
		return nil, yamlError(name, err)
	}
	return docs[0], nil
}

// expandedNodes counts the nodes of n as a decoder sees them, every alias
// replaced by what it names. Each anchor is counted once and remembered, so
// the count costs one walk of the tree however often it is referenced; the
// count saturates just past MaxConfigNodes.
func expandedNodes(n *yaml.Node, memo map[*yaml.Node]int) int {
	if n == nil {
		return 0
	}
	if n.Kind == yaml.AliasNode {
		if c, ok := memo[n.Alias]; ok {
			return c
		}
		memo[n.Alias] = MaxConfigNodes + 1 // an anchor inside itself: too big
		c := expandedNodes(n.Alias, memo)
		memo[n.Alias] = c
		return c
	}
	total := 1
	for _, c := range n.Content {
		total += expandedNodes(c, memo)
		if total > MaxConfigNodes {
			return MaxConfigNodes + 1
		}
	}
	return total
}

func yamlError(name string, err error) error {
	var ce *ConfigError
	if errors.As(err, &ce) {
		return err
	}
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	msg = strings.ReplaceAll(msg, "unmarshal errors:\n  ", "")
	msg = strings.ReplaceAll(msg, " in type analyzer.Config", "")
	msg = strings.ReplaceAll(msg, " in type analyzer.plain", "")
	return &ConfigError{File: name, Msg: msg}
}

func (c *Config) validate() error {
	switch c.Checks.FailOn {
	case "", FailOnNew, FailOnAll, FailOnNever:
	default:
		return fmt.Errorf("checks.fail_on: %q is not new, all or never", c.Checks.FailOn)
	}
	switch c.Fixes.Apply {
	case "":
		c.Fixes.Apply = Review
	case Safe, Review:
	default:
		return fmt.Errorf("fixes.apply: %q is not safe or review", c.Fixes.Apply)
	}
	switch c.Output.Mode {
	case "":
		c.Output.Mode = "pull-request"
	case "pull-request", "check-only", "sibling":
	default:
		return fmt.Errorf("output.mode: %q is not pull-request, check-only or sibling", c.Output.Mode)
	}
	for _, p := range c.IgnorePaths {
		if _, err := path.Match(p, ""); err != nil {
			return fmt.Errorf("ignore_paths: bad pattern %q", p)
		}
	}
	for i, e := range c.Ignore {
		if e.Rule == "" {
			return fmt.Errorf("ignore[%d]: rule is required", i)
		}
	}
	for k, t := range c.LabelSchema {
		switch t {
		case "text", "url", "email", "semver", "rfc3339", "hash", "spdx":
		default:
			return fmt.Errorf("label_schema.%s: unknown type %q", k, t)
		}
	}
	return nil
}

// hadolintConfig is the part of .hadolint.yaml that carries over.
type hadolintConfig struct {
	Ignored  []string `yaml:"ignored"`
	Override struct {
		Error   []string `yaml:"error"`
		Warning []string `yaml:"warning"`
		Info    []string `yaml:"info"`
		Style   []string `yaml:"style"`
	} `yaml:"override"`
	FailureThreshold    string            `yaml:"failure-threshold"`
	TrustedRegistries   []string          `yaml:"trustedRegistries"`
	LabelSchema         map[string]string `yaml:"label-schema"`
	StrictLabels        bool              `yaml:"strict-labels"`
	DisableIgnorePragma bool              `yaml:"disable-ignore-pragma"`
	// Keys hadolint accepts that change nothing here.
	Format  any `yaml:"format"`
	NoColor any `yaml:"no-color"`
	NoFail  any `yaml:"no-fail"`
	Verbose any `yaml:"verbose"`
}

// ParseHadolintConfig maps a .hadolint.yaml onto a dockopt Config; rule
// names stay hadolint IDs and are resolved through the equivalents. Keys
// hadolint does not know are ignored, as hadolint ignores them, with a
// warning each: a file written for hadolint must keep working here.
func ParseHadolintConfig(name string, b []byte) (*Config, error) {
	if len(b) > MaxConfigSize {
		return nil, &ConfigError{File: name, Msg: "file too large"}
	}
	var h hadolintConfig
	root, err := decodeBounded(name, b, &h, false)
	if err != nil {
		return nil, err
	}
	cfg := DefaultConfig()
	cfg.Rules = map[string]RuleSetting{}
	set := func(ids []string, s Severity) {
		for _, id := range ids {
			sev := s
			cfg.Rules[hadolintAlias(id)] = RuleSetting{Severity: &sev}
		}
	}
	set(h.Override.Error, SeverityError)
	set(h.Override.Warning, SeverityWarning)
	set(h.Override.Info, SeverityInfo)
	set(h.Override.Style, SeverityInfo)
	set(h.Ignored, SeverityOff)
	if h.FailureThreshold != "" {
		s, err := ParseSeverity(h.FailureThreshold)
		if err != nil {
			return nil, &ConfigError{File: name, Msg: "failure-threshold: " + err.Error()}
		}
		if s == SeverityOff {
			// In hadolint "none" and "ignore" sit below every severity, so
			// any finding fails; dockopt's off would never fail.
			s = SeverityInfo
		}
		cfg.FailureThreshold = &s
	}
	cfg.TrustedRegistries = h.TrustedRegistries
	cfg.LabelSchema = h.LabelSchema
	cfg.StrictLabels = h.StrictLabels
	if h.DisableIgnorePragma {
		off := false
		cfg.InlineIgnores = &off
	}
	if err := cfg.validate(); err != nil {
		return nil, &ConfigError{File: name, Msg: err.Error()}
	}
	cfg.set.strictLabels = h.StrictLabels
	cfg.Sources = []string{name}
	cfg.Warnings = unknownKeys(name, root, reflect.TypeOf(h))
	return cfg, nil
}

// unknownKeys lists, as warnings, the mapping keys under n that t (a
// struct decoded by yaml tags) has no field for, recursing into the
// fields that are structs themselves.
func unknownKeys(name string, n *yaml.Node, t reflect.Type) []string {
	for n != nil && (n.Kind == yaml.DocumentNode || n.Kind == yaml.AliasNode) {
		if n.Kind == yaml.AliasNode {
			n = n.Alias
		} else if len(n.Content) > 0 {
			n = n.Content[0]
		} else {
			n = nil
		}
	}
	if n == nil || n.Kind != yaml.MappingNode || t.Kind() != reflect.Struct {
		return nil
	}
	fields := map[string]reflect.Type{}
	for i := range t.NumField() {
		if tag, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ","); tag != "" && tag != "-" {
			fields[tag] = t.Field(i).Type
		}
	}
	var out []string
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		ft, ok := fields[k.Value]
		if !ok {
			out = append(out, fmt.Sprintf("%s:%d: unknown key %q ignored, as hadolint ignores it", name, k.Line, k.Value))
			continue
		}
		out = append(out, unknownKeys(name, n.Content[i+1], ft)...)
	}
	return out
}

func hadolintAlias(id string) string {
	if strings.Contains(id, ":") {
		return id
	}
	return "hadolint:" + strings.ToUpper(id)
}

// LoadConfig reads the repository's configuration from fsys: hadolint's file
// first, then dockopt's on top. Absent files give the defaults.
func LoadConfig(fsys fs.FS) (*Config, error) {
	cfg := DefaultConfig()
	var warnings []string
	for _, p := range HadolintConfigPaths {
		b, err := readBounded(fsys, p, MaxConfigSize)
		if LeavesRoot(err) {
			return nil, &ConfigError{File: p, Msg: OutsideReason + "; it was not read"}
		}
		if err != nil {
			if strings.Contains(err.Error(), "too large") {
				warnings = append(warnings, fmt.Sprintf("%s is larger than %d KiB and was not read", p, MaxConfigSize>>10))
			}
			continue
		}
		h, err := ParseHadolintConfig(p, b)
		if err != nil {
			return nil, err
		}
		cfg = h
		break
	}
	for _, p := range ConfigPaths {
		b, err := readBounded(fsys, p, MaxConfigSize)
		if LeavesRoot(err) {
			return nil, &ConfigError{File: p, Msg: OutsideReason + "; it was not read"}
		}
		if err != nil {
			var pe *fs.PathError
			if errors.As(err, &pe) && pe.Err.Error() == "file too large" {
				return nil, &ConfigError{File: p, Msg: "file too large"}
			}
			continue
		}
		d, err := ParseConfig(p, b)
		if err != nil {
			return nil, err
		}
		cfg = Merge(cfg, d)
		break
	}
	cfg.Warnings = append(cfg.Warnings, warnings...)
	return cfg, nil
}

// Merge lays over on top of base: what over's file wrote wins, what it
// left out comes from base. Rules merge by key; ignores, ignored paths,
// sources and warnings add up. An organization's default goes under a
// repository's file this way, and a .hadolint.yaml under dockopt's own.
func Merge(base, over *Config) *Config {
	out := *base
	out.Rules = map[string]RuleSetting{}
	for k, v := range base.Rules {
		out.Rules[k] = v
	}
	for k, v := range over.Rules {
		out.Rules[k] = v
	}
	out.Ignore = append(append([]IgnoreEntry(nil), base.Ignore...), over.Ignore...)
	out.IgnorePaths = append(append([]string(nil), base.IgnorePaths...), over.IgnorePaths...)
	if over.Enabled != nil {
		out.Enabled = over.Enabled
	}
	if over.Checks.FailOn != "" {
		out.Checks.FailOn = over.Checks.FailOn
	}
	if over.InlineIgnores != nil {
		out.InlineIgnores = over.InlineIgnores
	}
	if over.FailureThreshold != nil {
		out.FailureThreshold = over.FailureThreshold
	}
	if len(over.TrustedRegistries) > 0 {
		out.TrustedRegistries = over.TrustedRegistries
	}
	if len(over.LabelSchema) > 0 {
		out.LabelSchema = over.LabelSchema
	}
	if over.set.strictLabels {
		out.StrictLabels = over.StrictLabels
	}
	if over.set.harden {
		out.Compose.Harden = over.Compose.Harden
	}
	if over.set.apply {
		out.Fixes.Apply = over.Fixes.Apply
	}
	if over.set.mode {
		out.Output.Mode = over.Output.Mode
	}
	if over.set.labels {
		out.PullRequest.Labels = over.PullRequest.Labels
	}
	if over.set.reviewers {
		out.PullRequest.Reviewers = over.PullRequest.Reviewers
	}
	if over.set.draft {
		out.PullRequest.Draft = over.PullRequest.Draft
	}
	s := base.set
	out.set = written{mode: s.mode || over.set.mode, apply: s.apply || over.set.apply, labels: s.labels || over.set.labels,
		reviewers: s.reviewers || over.set.reviewers, draft: s.draft || over.set.draft,
		strictLabels: s.strictLabels || over.set.strictLabels, harden: s.harden || over.set.harden}
	out.Sources = append(append([]string(nil), base.Sources...), over.Sources...)
	out.Warnings = append(append([]string(nil), base.Warnings...), over.Warnings...)
	return &out
}

// ResolveRules maps the configuration's rule keys (IDs or equivalents) to
// rule IDs, and reports keys that name no rule.
func (c *Config) ResolveRules(a *Analyzer) (map[string]RuleSetting, error) {
	out := map[string]RuleSetting{}
	if c == nil {
		return out, nil
	}
	var unknown []string
	for _, k := range slices.Sorted(maps.Keys(c.Rules)) {
		rules := a.Lookup(k)
		if len(rules) == 0 {
			if strings.HasPrefix(k, "hadolint:") {
				// hadolint rules dockopt does not mirror are harmless to name.
				continue
			}
			unknown = append(unknown, k)
			continue
		}
		for _, r := range rules {
			out[r.ID] = c.Rules[k]
		}
	}
	if len(unknown) > 0 {
		return out, fmt.Errorf("rules: unknown rule %s (see `dockopt rules`)", strings.Join(unknown, ", "))
	}
	return out, nil
}

// matchPath matches a slash path against a pattern in .dockerignore
// syntax, where `**` spans folders, with BuildKit's own matcher. The
// pattern must match the whole path; one ending in / matches what is
// inside that folder.
func matchPath(pattern, p string) bool {
	if strings.HasSuffix(pattern, "/") {
		pattern += "**"
	}
	m, err := patternmatcher.New([]string{pattern})
	if err != nil {
		return false
	}
	// The path itself must match. MatchesUsingParentResults, which
	// patternmatcher offers instead, also matches what lies under a
	// matching folder unless given that folder's results; the deprecated
	// function's known bug needs exclusions, and there are none here.
	//lint:ignore SA1019 see above
	ok, err := m.MatchesUsingParentResult(p, false)
	return ok && err == nil
}
