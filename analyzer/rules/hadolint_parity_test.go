package rules

import (
	"bytes"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/dockopt/dockopt/analyzer"
	"golang.org/x/tools/txtar"
)

// The floors below are the share of cases, per configuration kind, where
// dockopt does what hadolint's specification says. Raise them as rules
// are brought closer to hadolint; never lower them to make a change pass.
const (
	defaultConfigFloor = 0.97
	customConfigFloor  = 0.97
)

// TestHadolintParity runs testdata/_hadolint through the whole catalog:
// one file per hadolint rule (plus the pragma and configuration files),
// each case a Dockerfile that hadolint's own test suite says the rule
// fires on or passes, restated in our words. A case agrees when a finding
// carrying the rule's `hadolint:` equivalent is present exactly when
// hadolint's finding is. The per-rule table prints with -v:
//
//	go test ./analyzer/rules -run TestHadolintParity -v
//
// Case names read `[DLxxxx] EXPECT[, EXPECT…]: description`, where EXPECT
// is `fires`, `passes`, `fires@SEVERITY`, or, for the failure threshold,
// `fails`/`succeeds` (whether the rule's findings set the exit code). A
// leading `onbuild` applies an expectation to the same Dockerfile with
// every RUN wrapped in ONBUILD (as hadolint's tests do), and `+onbuild`
// after the first expectation repeats it for that variant. Two kinds of
// section change the case that follows them:
//
//	-- .hadolint.yaml --    the configuration, loaded as the CLI loads it
//	-- differs --           why dockopt deliberately does otherwise
//	-- differs onbuild --   the same, for the ONBUILD variant only
//
// A `.hadolint.yaml (every case)` section sets the configuration of every
// case after it that has none of its own, as hadolint's label specs do.
//
// A file whose rule dockopt does not mirror says so on a line
// `unmirrored: reason` of its comment; its cases are listed, not scored.
func TestHadolintParity(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "_hadolint", "*.txtar"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no parity tables in testdata/_hadolint: %v", err)
	}
	a := analyzer.New(All())
	var cases []parityCase
	unmirrored := map[string]string{}
	for _, f := range files {
		cs, reason, err := readParityFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if reason != "" {
			unmirrored[strings.TrimSuffix(filepath.Base(f), ".txtar")] = reason
		}
		cases = append(cases, cs...)
	}
	tally := map[string]*parityTally{}
	var stale, deliberate, disagreements []string
	for _, c := range cases {
		// Pragma and configuration cases are tallied by their file, so
		// that the table shows how each of those features fares.
		key := c.rule
		if !strings.HasPrefix(c.file, "DL") {
			key = c.file
		}
		if tally[key] == nil {
			tally[key] = &parityTally{rule: key}
		}
		tl := tally[key]
		if reason, ok := unmirrored[c.file]; ok {
			tl.unmirrored = reason
			tl.count(c.custom, parityUnscored)
			continue
		}
		if len(a.Lookup("hadolint:"+c.rule)) == 0 {
			t.Errorf("%s: no dockopt rule has the equivalent hadolint:%s; mark the file `unmirrored: reason`", c.where(), c.rule)
			continue
		}
		got, detail := runParityCase(t, a, c)
		agree := got == c.expect
		switch {
		case agree && c.differs != "":
			stale = append(stale, fmt.Sprintf("%s: agrees with hadolint now; remove its `differs` section", c.where()))
			tl.count(c.custom, parityAgree)
		case agree:
			tl.count(c.custom, parityAgree)
		case c.differs != "":
			tl.count(c.custom, parityDeliberate)
			deliberate = append(deliberate, fmt.Sprintf("%s: hadolint %s, dockopt %s on purpose: %s",
				c.where(), c.expect, got, strings.Join(strings.Fields(c.differs), " ")))
		default:
			tl.count(c.custom, parityDisagree)
			disagreements = append(disagreements, fmt.Sprintf("%s: hadolint %s, dockopt %s%s", c.where(), c.expect, got, detail))
		}
	}
	for _, s := range stale {
		t.Error(s)
	}
	report := parityReport(tally)
	if testing.Verbose() {
		t.Log("\n" + report)
		for _, d := range deliberate {
			t.Log(d)
		}
		for _, d := range disagreements {
			t.Log(d)
		}
	}
	for _, kind := range []struct {
		custom bool
		name   string
		floor  float64
	}{{false, "default-config", defaultConfigFloor}, {true, "custom-config", customConfigFloor}} {
		agree, total := 0, 0
		for _, tl := range tally {
			n := tl.byKind[kind.custom]
			agree += n[parityAgree]
			total += n[parityAgree] + n[parityDeliberate] + n[parityDisagree]
		}
		if total == 0 {
			continue
		}
		if share := float64(agree) / float64(total); share < kind.floor {
			t.Errorf("%s agreement with hadolint is %.1f%% (%d of %d), below the floor of %.1f%%; run with -v for the cases",
				kind.name, 100*share, agree, total, 100*kind.floor)
		}
	}
}

// parityCase is one Dockerfile and what hadolint says of it.
type parityCase struct {
	file, name string
	rule       string
	dockerfile []byte
	config     []byte
	custom     bool
	onbuild    bool
	expect     string
	differs    string
}

func (c parityCase) where() string {
	v := ""
	if c.onbuild {
		v = " (ONBUILD)"
	}
	return fmt.Sprintf("%s.txtar %q%s", c.file, c.name, v)
}

func readParityFile(path string) (cases []parityCase, unmirrored string, err error) {
	ar, err := txtar.ParseFile(path)
	if err != nil {
		return nil, "", err
	}
	base := strings.TrimSuffix(filepath.Base(path), ".txtar")
	for _, l := range strings.Split(string(ar.Comment), "\n") {
		if r, ok := strings.CutPrefix(l, "unmirrored:"); ok {
			unmirrored = strings.TrimSpace(r)
		}
	}
	var config, fileConfig []byte
	var differs, differsOnbuild string
	for _, f := range ar.Files {
		switch f.Name {
		case ".hadolint.yaml":
			config = f.Data
			continue
		case ".hadolint.yaml (every case)":
			fileConfig = f.Data
			continue
		case "differs":
			differs = strings.TrimSpace(string(f.Data))
			continue
		case "differs onbuild":
			differsOnbuild = strings.TrimSpace(string(f.Data))
			continue
		}
		head, desc, ok := strings.Cut(f.Name, ": ")
		if !ok || desc == "" {
			return nil, "", fmt.Errorf("%s: section %q is not `EXPECT: description`", path, f.Name)
		}
		rule := base
		if fields := strings.Fields(head); len(fields) > 0 && strings.HasPrefix(fields[0], "DL") {
			rule = fields[0]
			head = strings.TrimSpace(strings.TrimPrefix(head, fields[0]))
		}
		if !strings.HasPrefix(rule, "DL") {
			return nil, "", fmt.Errorf("%s: section %q names no hadolint rule", path, f.Name)
		}
		if config == nil {
			config = fileConfig
		}
		c := parityCase{file: base, name: desc, rule: rule, dockerfile: f.Data, config: config, custom: config != nil}
		for i, e := range strings.Split(head, ",") {
			e = strings.TrimSpace(e)
			both := false
			if i == 0 {
				e, both = strings.CutSuffix(e, " +onbuild")
			}
			onbuild := false
			if rest, ok := strings.CutPrefix(e, "onbuild "); ok {
				e, onbuild = rest, true
			}
			if err := checkExpectation(e); err != nil {
				return nil, "", fmt.Errorf("%s: section %q: %v", path, f.Name, err)
			}
			for _, ob := range []bool{onbuild, true} {
				v := c
				v.expect, v.onbuild, v.differs = e, ob, differs
				if ob && v.differs == "" {
					v.differs = differsOnbuild
				}
				cases = append(cases, v)
				if !both {
					break
				}
			}
		}
		config, differs, differsOnbuild = nil, "", ""
	}
	return cases, unmirrored, nil
}

func checkExpectation(e string) error {
	word, sev, hasSev := strings.Cut(e, "@")
	switch word {
	case "fires":
		if hasSev {
			if _, err := analyzer.ParseSeverity(sev); err != nil {
				return err
			}
		}
		return nil
	case "passes", "fails", "succeeds":
		if !hasSev {
			return nil
		}
	}
	return fmt.Errorf("expectation %q is not fires[@SEVERITY], passes, fails or succeeds", e)
}

// runParityCase returns what dockopt did, in the words of the case's
// expectation, and a note for the report when analysis failed.
func runParityCase(t *testing.T, a *analyzer.Analyzer, c parityCase) (got, detail string) {
	t.Helper()
	src := c.dockerfile
	if c.onbuild {
		src = wrapRunsInOnbuild(src)
	}
	fsys := fstest.MapFS{"Dockerfile": {Data: src}}
	if c.config != nil {
		fsys[".hadolint.yaml"] = &fstest.MapFile{Data: c.config}
	}
	cfg, err := analyzer.LoadConfig(fsys)
	if err != nil {
		return "config error", ": " + err.Error()
	}
	res, err := a.Analyze(t.Context(), fsys, ".", cfg)
	if err != nil || len(res.Files) != 1 {
		t.Fatalf("%s: analysis did not run: %v", c.where(), err)
	}
	fr := res.Files[0]
	if fr.Error != "" {
		detail = " (" + fr.Error + ")"
	}
	var mine []analyzer.Finding
	for _, f := range fr.Findings {
		for _, e := range f.Equivalents {
			if strings.EqualFold(e, "hadolint:"+c.rule) {
				mine = append(mine, f)
				break
			}
		}
	}
	word, sev, hasSev := strings.Cut(c.expect, "@")
	switch word {
	case "fails", "succeeds":
		// As `dockopt analyze` decides its exit code: an off threshold
		// never fails.
		limit := cfg.Threshold()
		for _, f := range mine {
			if limit != analyzer.SeverityOff && f.Severity <= limit {
				return "fails", detail
			}
		}
		return "succeeds", detail
	}
	if len(mine) == 0 {
		return "passes", detail
	}
	if hasSev {
		want, _ := analyzer.ParseSeverity(sev)
		for _, f := range mine {
			if f.Severity == want {
				return c.expect, detail
			}
		}
		return "fires@" + mine[0].Severity.String(), detail
	}
	return "fires", detail
}

// wrapRunsInOnbuild turns every top-level RUN into ONBUILD RUN, the
// variant hadolint's tests check with onBuildRuleCatches.
func wrapRunsInOnbuild(src []byte) []byte {
	d, err := analyzer.Parse("Dockerfile", src)
	if err != nil {
		return src
	}
	out := bytes.Clone(src)
	for i := len(d.Instructions) - 1; i >= 0; i-- {
		in := d.Instructions[i]
		if in.Keyword == "RUN" {
			out = append(out[:in.Start:in.Start], append([]byte("ONBUILD "), out[in.Start:]...)...)
		}
	}
	return out
}

const (
	parityAgree = iota
	parityDeliberate
	parityDisagree
	parityUnscored
)

type parityTally struct {
	rule       string
	unmirrored string
	// byKind is indexed by whether the case sets a configuration.
	byKind map[bool]*[4]int
}

func (tl *parityTally) count(custom bool, outcome int) {
	if tl.byKind == nil {
		tl.byKind = map[bool]*[4]int{false: {}, true: {}}
	}
	tl.byKind[custom][outcome]++
}

func parityReport(tally map[string]*parityTally) string {
	rules := make([]string, 0, len(tally))
	for r := range tally {
		rules = append(rules, r)
	}
	sort.Strings(rules)
	var b strings.Builder
	fmt.Fprintf(&b, "%-8s %-30s %-30s %s\n", "rule", "default config", "custom config", "note")
	var sums [2][4]int
	for _, r := range rules {
		tl := tally[r]
		cols := [2]string{}
		for i, custom := range []bool{false, true} {
			n := tl.byKind[custom]
			for k := range n {
				sums[i][k] += n[k]
			}
			cols[i] = formatTally(*n)
		}
		fmt.Fprintf(&b, "%-8s %-30s %-30s %s\n", r, cols[0], cols[1], tl.unmirrored)
	}
	fmt.Fprintf(&b, "%-8s %-30s %-30s\n", "all", formatTally(sums[0]), formatTally(sums[1]))
	b.WriteString("columns: agree/scored (share), deliberate differences (d), other disagreements (x), unscored cases of unmirrored rules (u)\n")
	return b.String()
}

func formatTally(n [4]int) string {
	scored := n[parityAgree] + n[parityDeliberate] + n[parityDisagree]
	if scored == 0 && n[parityUnscored] == 0 {
		return "-"
	}
	s := ""
	if scored > 0 {
		s = fmt.Sprintf("%d/%d (%.1f%%)", n[parityAgree], scored, 100*float64(n[parityAgree])/float64(scored))
	}
	if n[parityDeliberate] > 0 {
		s += fmt.Sprintf(" %dd", n[parityDeliberate])
	}
	if n[parityDisagree] > 0 {
		s += fmt.Sprintf(" %dx", n[parityDisagree])
	}
	if n[parityUnscored] > 0 {
		s += fmt.Sprintf(" %du", n[parityUnscored])
	}
	return strings.TrimSpace(s)
}
