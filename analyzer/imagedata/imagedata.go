// Package imagedata holds dated, embedded facts about common base images:
// when each version stops getting security fixes, which smaller variant
// of an image exists, and roughly how large each variant is.
//
// The facts are a snapshot read from data.json, with two dates: the sizes
// describe the images as of AsOf, and every end-of-life answer is computed
// against EOLAsOf, never against the clock, so that an analysis gives the
// same result tomorrow as today. The end-of-life dates are announced long
// in advance, so their date moves on whenever the rows that pass it are
// checked, without waiting for the sizes to be measured again. Refresh the
// file (and the date of what was refreshed) to move on.
package imagedata

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/dockopt/dockopt/analyzer"
)

//go:embed data.json
var raw []byte

type product struct {
	Source      string            `json:"source"`
	Note        string            `json:"note"`
	Versions    map[string]string `json:"versions"`
	Codenames   map[string]string `json:"codenames"`
	All         string            `json:"all"`
	Replacement string            `json:"replacement"`
}

type alternative struct {
	Slim   string   `json:"slim"`
	Others []string `json:"others"`
	Note   string   `json:"note"`
}

type sizeEntry struct {
	Reference string  `json:"reference"`
	Full      float64 `json:"full"`
	Slim      float64 `json:"slim"`
	Alpine    float64 `json:"alpine"`
	JRE       float64 `json:"jre"`
}

type tables struct {
	// AsOf is the date of the sizes (and of the tag shapes); EOLAsOf the
	// date the end-of-life comparisons are made against.
	AsOf         string                 `json:"as_of"`
	EOLAsOf      string                 `json:"eol_as_of"`
	Notes        []string               `json:"notes"`
	EOL          map[string]product     `json:"eol"`
	Alternatives map[string]alternative `json:"alternatives"`
	Sizes        map[string]sizeEntry   `json:"sizes"`
}

// loaded holds the tables, decoded when first asked for rather than when
// the program starts: `dockopt version` and `dockopt rules` do not read
// them, and an analysis decodes them once, on the worker that first asks.
var loaded = sync.OnceValue(func() *loadedTables {
	var t loadedTables
	if err := json.Unmarshal(raw, &t.tables); err != nil {
		panic("imagedata: data.json: " + err.Error())
	}
	asOf, err := time.Parse("2006-01-02", t.AsOf)
	if err != nil {
		panic("imagedata: as_of: " + err.Error())
	}
	eolAsOf, err := time.Parse("2006-01-02", t.EOLAsOf)
	if err != nil {
		panic("imagedata: eol_as_of: " + err.Error())
	}
	t.asOf, t.eolAsOf = asOf, eolAsOf
	return &t
})

type loadedTables struct {
	tables
	asOf, eolAsOf time.Time
}

// AsOf returns the date the size figures describe, as YYYY-MM.
func AsOf() string { return loaded().asOf.Format("2006-01") }

// EOLAsOf returns the date the end-of-life comparisons are made against,
// as YYYY-MM, for messages that say when a line counted as ended.
func EOLAsOf() string { return loaded().eolAsOf.Format("2006-01") }

// AsOfDate returns the date every end-of-life comparison is made against.
func AsOfDate() time.Time { return loaded().eolAsOf }

// Notes returns the file's statements about where the figures come from,
// for reports that quote them.
func Notes() []string { return append([]string(nil), loaded().Notes...) }

// Lifecycle is the support window of one product version an image is
// built on: the image's own software, or the OS release named in its tag.
type Lifecycle struct {
	// Product is the table's name ("python", "debian", "alpine").
	Product string
	// Version is the line the image is on ("3.8", "11").
	Version string
	EOL     time.Time
	// Ended is true when EOL is on or before AsOfDate: a line's end date
	// is the day its fixes stop (a line ending on 2026-12-01 is past at an
	// as-of date of 2026-12-01).
	Ended bool
	// OldestSupported is the lowest version still supported at AsOfDate
	// (its EOL after it),
	// "" when the table has none (a deprecated image).
	OldestSupported string
	// Replacement names an image to move to when the whole image is
	// deprecated ("eclipse-temurin" for openjdk).
	Replacement string
	Source      string
	Note        string
}

// Lookup returns the lifecycles an image reference depends on, the
// image's own first, then the OS release its tag names (python:3.11-buster
// depends on Python 3.11 and on Debian 10). Unknown images, untagged and
// `latest` references return nothing: their version cannot be known.
func Lookup(ref analyzer.ImageRef) []Lifecycle {
	fam := family(ref)
	if fam == "" {
		return nil
	}
	t := parseTag(fam, ref.Tag)
	var out []Lifecycle
	if t.earlyAccess {
		// Early-access builds are rebuilt continuously; no end applies.
		return nil
	}
	if lc, ok := lifecycle(fam, t.version); ok {
		out = append(out, lc)
	}
	if fam != "debian" && fam != "ubuntu" && t.osProduct != "" {
		if lc, ok := lifecycle(t.osProduct, t.osVersion); ok {
			out = append(out, lc)
		}
	}
	return out
}

// EOL returns the earliest end-of-life date among the lifecycles the image
// depends on, and whether any is known.
func EOL(ref analyzer.ImageRef) (date time.Time, known bool) {
	for _, lc := range Lookup(ref) {
		if !known || lc.EOL.Before(date) {
			date, known = lc.EOL, true
		}
	}
	return date, known
}

func lifecycle(fam, version string) (Lifecycle, bool) {
	p, ok := loaded().EOL[fam]
	if !ok {
		return Lifecycle{}, false
	}
	lc := Lifecycle{Product: fam, Source: p.Source, Note: p.Note, Replacement: p.Replacement}
	if p.All != "" {
		if version == "" {
			return Lifecycle{}, false
		}
		lc.Version = version
		lc.EOL = mustDate(p.All)
		lc.Ended = ended(lc.EOL, AsOfDate())
		return lc, true
	}
	v, date, ok := matchVersion(p.Versions, version)
	if !ok {
		return Lifecycle{}, false
	}
	lc.Version, lc.EOL = v, mustDate(date)
	lc.Ended = ended(lc.EOL, AsOfDate())
	lc.OldestSupported = oldestSupportedOf()[fam]
	return lc, true
}

// matchVersion finds the table line of a version, dropping trailing
// components: 3.12.4 is on the 3.12 line, 20.11.1 on the 20 line.
func matchVersion(versions map[string]string, v string) (string, string, bool) {
	for v != "" {
		if d, ok := versions[v]; ok {
			return v, d, true
		}
		i := strings.LastIndex(v, ".")
		if i < 0 {
			break
		}
		v = v[:i]
	}
	return "", "", false
}

// oldestSupportedOf is oldestSupported of every product, worked out once:
// it reads and sorts a product's whole table, and eol-base-image asks it
// for every stage of every file.
var oldestSupportedOf = sync.OnceValue(func() map[string]string {
	m := make(map[string]string, len(loaded().EOL))
	for fam, p := range loaded().EOL {
		m[fam] = oldestSupported(p.Versions)
	}
	return m
})

// ended reports whether a line whose fixes stop on eol is past its end at
// asOf: the end date itself is past.
func ended(eol, asOf time.Time) bool { return !eol.After(asOf) }

func oldestSupported(versions map[string]string) string {
	var live []string
	for v, d := range versions {
		if !ended(mustDate(d), AsOfDate()) {
			live = append(live, v)
		}
	}
	sort.Slice(live, func(i, j int) bool { return versionLess(live[i], live[j]) })
	if len(live) == 0 {
		return ""
	}
	return live[0]
}

// versionLess orders dotted versions numerically; names without numbers
// (centos' stream9) sort by their digits.
func versionLess(a, b string) bool {
	pa, pb := versionParts(a), versionParts(b)
	for i := 0; i < len(pa) && i < len(pb); i++ {
		if pa[i] != pb[i] {
			return pa[i] < pb[i]
		}
	}
	if len(pa) != len(pb) {
		return len(pa) < len(pb)
	}
	return a < b
}

func versionParts(v string) []int {
	var out []int
	for _, f := range strings.Split(strings.TrimLeft(v, "abcdefghijklmnopqrstuvwxyz"), ".") {
		n, _ := strconv.Atoi(f)
		out = append(out, n)
	}
	return out
}

func mustDate(s string) time.Time {
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		panic(fmt.Sprintf("imagedata: bad date %q", s))
	}
	return t
}

// family maps an image reference to its table name. Only the official
// images (any registry mirroring the same path) and a few well-known
// repositories are known; look-alike images elsewhere are not guessed at.
func family(ref analyzer.ImageRef) string {
	repo := ref.Repository
	if name := ref.Official(); name != "" {
		repo = name
	}
	switch repo {
	case "centos/centos":
		return "centos"
	case "nginxinc/nginx-unprivileged":
		return repo
	}
	if ref.Registry != "docker.io" && strings.Contains(ref.Registry, "distroless") {
		return ""
	}
	if ref.Registry == "gcr.io" && strings.HasPrefix(repo, "distroless/") {
		return "gcr.io/" + repo
	}
	if ref.Registry == "mcr.microsoft.com" {
		// .NET's images (and the older dotnet/core/ ones): the runtime,
		// ASP.NET Core and the SDK share the release's support window.
		switch strings.TrimPrefix(strings.TrimPrefix(repo, "dotnet/"), "core/") {
		case "sdk", "aspnet", "runtime", "runtime-deps":
			if strings.HasPrefix(repo, "dotnet/") {
				return "dotnet"
			}
		}
		return ""
	}
	if strings.Contains(repo, "/") {
		return ""
	}
	if _, ok := loaded().EOL[repo]; ok {
		return repo
	}
	if _, ok := loaded().Sizes[repo]; ok {
		return repo
	}
	return ""
}

// tagParts is an image tag split into what the tables need.
type tagParts struct {
	// version is the product version written in the tag ("3.12.4"),
	// "" for latest and other moving names.
	version string
	// head is what precedes the variant words as written: the version,
	// or a moving name such as "lts" or "bookworm".
	head string
	// osProduct and osVersion name the OS release in the tag
	// ("debian","12" for -bookworm; "alpine","3.20" for -alpine3.20).
	osProduct, osVersion string
	// osToken is the codename as written, for alternatives that keep it.
	osToken string
	variant string // alpine, slim, jre, full
	// flavor is php's server variant (cli, fpm, zts, apache).
	flavor      string
	earlyAccess bool
	// unknown are words of the tag the tables do not read (a build date,
	// nginx's perl, temurin's ubi9-minimal): an alternative built without
	// them would silently drop what they select.
	unknown []string
}

func parseTag(fam, tag string) tagParts {
	tag = strings.ToLower(tag)
	var t tagParts
	t.variant = "full"
	tokens := strings.Split(tag, "-")
	if tag == "" {
		tokens = nil
	}
	for i, tok := range tokens {
		switch {
		case i == 0 && tok != "latest" && !isVariantWord(tok) && codename(tok) == "":
			t.head = tok
			t.version = leadingVersion(fam, tok)
		case strings.HasPrefix(tok, "alpine"):
			t.variant = "alpine"
			if v := strings.TrimPrefix(tok, "alpine"); v != "" {
				t.osProduct, t.osVersion = "alpine", v
			}
		case tok == "slim":
			if t.variant == "full" {
				t.variant = "slim"
			}
		case tok == "ea" || strings.HasPrefix(tok, "ea+"):
			t.earlyAccess = true
		case tok == "jre":
			t.variant = "jre"
		case tok == "cli" || tok == "fpm" || tok == "zts" || tok == "apache":
			t.flavor = tok
		case codename(tok) != "":
			t.osToken = tok
			t.osProduct = codename(tok)
			t.osVersion = loaded().EOL[t.osProduct].Codenames[tok]
			if i == 0 && (fam == "debian" || fam == "ubuntu") {
				t.head = tok
				t.version = t.osVersion
			}
		case tok == "jdk", tok == "latest" && i == 0:
		default:
			t.unknown = append(t.unknown, tok)
		}
	}
	return t
}

func isVariantWord(tok string) bool {
	switch tok {
	case "slim", "jre", "jdk", "cli", "fpm", "zts", "apache":
		return true
	}
	return strings.HasPrefix(tok, "alpine")
}

// codename names the distribution a release codename belongs to.
func codename(tok string) string {
	for _, d := range []string{"debian", "ubuntu"} {
		if _, ok := loaded().EOL[d].Codenames[tok]; ok {
			return d
		}
	}
	return ""
}

// leadingVersion returns the version a tag word starts with: "3.12.4" from
// "3.12.4", "8" from openjdk's "8u342", "7" from centos' "centos7".
func leadingVersion(fam, tok string) string {
	if fam == "centos" {
		tok = strings.TrimPrefix(tok, "centos")
		if strings.HasPrefix(tok, "stream") {
			return tok
		}
	}
	end := 0
	for end < len(tok) && (tok[end] >= '0' && tok[end] <= '9' || tok[end] == '.') {
		end++
	}
	v := strings.Trim(tok[:end], ".")
	if end < len(tok) && fam != "openjdk" && !strings.HasPrefix(tok[end:], "_") {
		// "20rc1", "3.13.0rc2": pre-releases are not on a supported line.
		if tok[end] != 'u' {
			return ""
		}
	}
	return v
}

// SlimAlternative returns a smaller image of the same family for a
// full-size reference: python:3.12 → python:3.12-slim, node:20 →
// node:20-slim, golang:1.25 → gcr.io/distroless/static-debian12 (for the
// runtime stage), openjdk:17 → eclipse-temurin:17-jre. References that
// are already slim, alpine, distroless or a JRE return false.
func SlimAlternative(ref analyzer.ImageRef) (string, bool) {
	alts := Alternatives(ref)
	if len(alts) == 0 {
		return "", false
	}
	return alts[0], true
}

// Alternatives returns every smaller variant the tables know for ref, the
// preferred first.
func Alternatives(ref analyzer.ImageRef) []string {
	fam := family(ref)
	alt, ok := loaded().Alternatives[fam]
	if !ok || ref.Registry != "docker.io" && ref.Official() == "" {
		return nil
	}
	t := parseTag(fam, ref.Tag)
	switch {
	case fam == "openjdk":
		// Every openjdk tag is deprecated, slim or not: move to a JRE.
		if t.version == "" {
			return nil
		}
		t.head = strings.Split(t.version, ".")[0]
	case t.variant != "full":
		return nil
	}
	if fam == "php" && t.flavor == "apache" {
		return nil
	}
	if ref.Tag != "" && t.head == "" && strings.ToLower(ref.Tag) != "latest" {
		// A tag that starts with something other than a version or a
		// moving name (a date, a pre-release) cannot be rewritten safely.
		return nil
	}
	if len(t.unknown) > 0 {
		return nil
	}
	var out []string
	for _, tmpl := range append([]string{alt.Slim}, alt.Others...) {
		if s, ok := expand(tmpl, t); ok && TagExists(s) {
			// A mirror of the official images has their smaller
			// variants too, and the Dockerfile chose to pull from it.
			out = append(out, ref.OnRegistryOf(s))
		}
	}
	return out
}

// tagShapes are the shapes of the tags each image's publisher pushes, as
// of the tables' date, for the images alternatives name: a suggestion
// that matches none is not offered (debian:slim does not exist; the slim
// Debian tags are bookworm-slim, 12-slim, stable-slim …).
var tagShapes = map[string]*regexp.Regexp{
	"debian": regexp.MustCompile(`^(\d+(\.\d+)?|` + debianSuites + `)(-slim|-backports|-\d{8}(-slim)?)?$|^latest$`),
	"python": regexp.MustCompile(`^((\d+(\.\d+){0,2})-)?(slim(-` + debianCodes + `)?|alpine(\d+\.\d+)?|` + debianCodes + `)$|^\d+(\.\d+){0,2}$|^latest$`),
	"ruby":   regexp.MustCompile(`^((\d+(\.\d+){0,2})-)?(slim(-` + debianCodes + `)?|alpine(\d+\.\d+)?|` + debianCodes + `)$|^\d+(\.\d+){0,2}$|^latest$`),
	"node": regexp.MustCompile(`^((\d+(\.\d+){0,2}|lts|current|argon|boron|carbon|dubnium|erbium|fermium|gallium|hydrogen|iron|jod|krypton)-)?` +
		`(` + debianCodes + `(-slim)?|slim|alpine(\d+\.\d+)?)$|^(\d+(\.\d+){0,2}|lts|current|latest)$`),
	"php":                         regexp.MustCompile(`^((\d+(\.\d+){0,2})-)?((cli|fpm|zts|apache)-)?(alpine(\d+\.\d+)?|` + debianCodes + `)$|^\d+(\.\d+){0,2}(-(cli|fpm|zts|apache))?$|^(cli|fpm|zts|apache|latest)$`),
	"nginx":                       regexp.MustCompile(`^((\d+(\.\d+){0,2}|mainline|stable)-)?(alpine(-perl|-slim|-otel)?|perl|otel|` + debianCodes + `(-perl|-otel)?)$|^(\d+(\.\d+){0,2}|mainline|stable|latest)$`),
	"nginxinc/nginx-unprivileged": regexp.MustCompile(`^((\d+(\.\d+){0,2}|mainline|stable)-)?(alpine(-perl|-slim|-otel)?|perl|otel|` + debianCodes + `)$|^(\d+(\.\d+){0,2}|mainline|stable|latest)$`),
	"postgres":                    regexp.MustCompile(`^((\d+(\.\d+)?)-)?(alpine(\d+\.\d+)?|` + debianCodes + `)$|^\d+(\.\d+)?$|^latest$`),
	"eclipse-temurin":             regexp.MustCompile(`^\d+(\.\d+\.\d+(_\d+)?)?-(jre|jdk)(-(jammy|noble|focal|alpine|ubi9-minimal|ubi10-minimal))?$|^\d+(\.\d+\.\d+(_\d+)?)?(-(jammy|noble|focal|alpine|ubi9-minimal))?$|^latest$`),
}

const (
	debianCodes  = `(bookworm|bullseye|trixie|buster)`
	debianSuites = `(bookworm|bullseye|trixie|buster|stable|oldstable|testing|unstable|sid|experimental|rc-buggy)`
)

// TagExists reports whether a reference's tag has the shape of one its
// image's publisher pushes. Images outside the table (and references
// without a tag, which mean latest) are taken as they are; this guards
// the suggestions the tables themselves make.
func TagExists(ref string) bool {
	r := analyzer.ParseImageRef(ref)
	if r.Tag == "" {
		return true
	}
	name := r.Repository
	if official := r.Official(); official != "" {
		name = official
	} else if r.Registry != "docker.io" {
		return true
	}
	re, ok := tagShapes[name]
	if !ok {
		return true
	}
	return re.MatchString(strings.ToLower(r.Tag))
}

func expand(tmpl string, t tagParts) (string, bool) {
	head := t.head
	if strings.Contains(tmpl, "{os}") && head == t.osToken {
		head = ""
	}
	os := ""
	if t.osToken != "" && t.osToken != t.head {
		os = "-" + t.osToken
	}
	flavor := ""
	if t.flavor != "" {
		flavor = "-" + t.flavor
	}
	if strings.Contains(tmpl, "{v}") && head == "" && strings.Contains(tmpl, "temurin") {
		return "", false
	}
	s := strings.NewReplacer("{v}", head, "{os}", os, "{variant}", flavor).Replace(tmpl)
	name, tag, found := strings.Cut(s, ":")
	if !found {
		return s, true
	}
	tag = strings.Trim(tag, "-")
	if tag == "" {
		return name, true
	}
	return name + ":" + tag, true
}

// CompressedSizeMB returns the approximate compressed size of the image's
// variant and the basis of the figure, for estimates that must say how
// they were made.
func CompressedSizeMB(ref analyzer.ImageRef) (mb float64, basis string, ok bool) {
	fam := family(ref)
	e, found := loaded().Sizes[fam]
	if !found {
		return 0, "", false
	}
	t := parseTag(fam, ref.Tag)
	variant := t.variant
	if fam == "openjdk" && strings.Contains(strings.ToLower(ref.Tag), "slim") {
		variant = "slim"
	}
	switch variant {
	case "alpine":
		mb = e.Alpine
	case "slim":
		mb = e.Slim
	case "jre":
		mb = e.JRE
	default:
		mb, variant = e.Full, "full"
	}
	if mb == 0 {
		return 0, "", false
	}
	ofWhat := e.Reference
	if variant != "full" {
		ofWhat += " (" + variant + " variant)"
	}
	return mb, fmt.Sprintf("approximate compressed size of %s for linux/amd64 as published on its registry, as of %s", ofWhat, AsOf()), true
}
