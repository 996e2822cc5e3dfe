// Package contents is a dated table of what common base images ship: their
// distribution, whether their userland is busybox or GNU, which commands
// they contain (a shell, curl, wget, a server's own client), which accounts
// exist and which user they run as.
//
// It depends on nothing but the standard library so that the analyzer's
// model can read it; the rest of imagedata depends on the analyzer. An
// answer the table does not hold is unknown, never assumed: the facts built
// on it withhold a fix rather than guess.
package contents

import (
	_ "embed"
	"encoding/json"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

//go:embed contents.json
var raw []byte

type entry struct {
	Like            string           `json:"like"`
	Distro          string           `json:"distro"`
	Userland        string           `json:"userland"`
	Tools           map[string]*bool `json:"tools"`
	Users           []string         `json:"users"`
	User            *string          `json:"user"`
	AppUser         *appUser         `json:"app_user"`
	DropsPrivileges string           `json:"drops_privileges"`
	Entrypoint      *[]string        `json:"entrypoint"`
	// Env are variables the image's own ENV sets that paths are written
	// with (golang's GOPATH=/go).
	Env     map[string]string `json:"env"`
	Workdir string            `json:"workdir"`
	// WorkdirUnknown marks an image whose WORKDIR changes with its
	// version (zookeeper's /apache-zookeeper-3.9.3-bin).
	WorkdirUnknown bool `json:"workdir_unknown"`
	// DistributionLayer marks an entry that only adds a distribution's
	// packages (buildpack-deps): what it ships is the distribution's, not
	// the product's, and does not carry over to the product's variant on
	// another distribution.
	DistributionLayer bool `json:"distribution_layer"`
	// Source names the image's own files an entry was read from, for
	// whoever checks or refreshes it; nothing reads it.
	Source string `json:"source"`
	// Moved marks an image whose default tags changed distribution: tags
	// of versions before the move are read on the distribution it left.
	Moved *moved `json:"moved"`
	// Lines are what release lines change from the entry's default tags,
	// by the line a tag's version starts with: the tools of a line built
	// on another base (mysql 5.7 on oraclelinux:7-slim, with yum; 8.0 and
	// later on 8-slim and 9-slim, with microdnf only), or the user a
	// line runs as (influxdb 1.x sets USER influxdb, 2.x steps down with
	// gosu).
	Lines map[string]line `json:"lines"`
	// LinesOnly marks an entry whose facts hold only for the lines it
	// lists: a tag of another line (a newer major, latest) is unknown.
	LinesOnly bool `json:"lines_only"`
	// VersionTagsOnly marks a repository's default entry that holds
	// only for its tags naming no variant (a version, latest): a tag
	// with a word no variant entry knows is unknown, not the default
	// (ghcr.io/astral-sh/uv's bare tags are FROM scratch, its variant
	// tags full distributions).
	VersionTagsOnly bool `json:"version_tags_only"`
	// Unknown marks a variant the table knows it cannot describe: a tag
	// with that word is unknown, whatever its other words name
	// (ghcr.io/astral-sh/uv's -dhi tags are built on Docker Hardened
	// Images, trixie-dhi is not the trixie variant).
	Unknown bool `json:"unknown"`
}

// appUser is the account an image ships for its applications to run as.
type appUser struct {
	Name string `json:"name"`
	UID  string `json:"uid"`
}

// line is how the images of one release line differ from the entry.
type line struct {
	Tools map[string]*bool `json:"tools"`
	// User and DropsPrivileges replace the entry's when set.
	User            *string `json:"user"`
	DropsPrivileges *string `json:"drops_privileges"`
}

// moved says when an image's default tags left a distribution: Since maps
// a release line to its first version on the new one; lines older than
// every listed one never moved (mysql 5.6 stayed on Debian). Last maps
// a line whose builds on the old distribution stopped to the last
// version built there (5.7's Debian builds ended with 5.7.42).
type moved struct {
	From  string            `json:"from"`
	Since map[string]string `json:"since"`
	Last  map[string]string `json:"last"`
	Note  string            `json:"note"`
}

type table struct {
	AsOf   string           `json:"as_of"`
	Notes  []string         `json:"notes"`
	Images map[string]entry `json:"images"`
}

// loaded is the table, decoded and resolved when first asked for rather
// than when the program starts: `dockopt version` and `dockopt rules` do
// not read it, and an analysis decodes it once, on the worker that first
// asks.
var loaded = sync.OnceValue(func() *resolvedTable {
	var t resolvedTable
	if err := json.Unmarshal(raw, &t.table); err != nil {
		panic("contents: contents.json: " + err.Error())
	}
	asOf, err := time.Parse("2006-01-02", t.AsOf)
	if err != nil {
		panic("contents: as_of: " + err.Error())
	}
	t.asOf = asOf
	t.resolved = make(map[string]Image, len(t.Images))
	for _, k := range slices.Sorted(maps.Keys(t.Images)) {
		img, err := t.resolve(k, 0)
		if err != nil {
			panic("contents: " + err.Error())
		}
		t.resolved[k] = img
	}
	return &t
})

type resolvedTable struct {
	table
	asOf     time.Time
	resolved map[string]Image
}

// AsOf returns the date the table describes, as YYYY-MM.
func AsOf() string { return loaded().asOf.Format("2006-01") }

// Notes returns the table's statements about where its facts come from.
func Notes() []string { return append([]string(nil), loaded().Notes...) }

// Image is what the table knows about one image variant.
type Image struct {
	// Entry is the table entry that matched ("node:alpine"), for messages.
	Entry string
	// Distro is the distribution family: debian (Debian and Ubuntu),
	// alpine, rhel, busybox, distroless, scratch or windows.
	Distro string
	// Userland is busybox, gnu, none (no shell or core utilities) or
	// windows.
	Userland string
	// Tools maps a command to whether the image ships it; a command that
	// is not a key is unknown.
	Tools map[string]bool
	// Users are accounts known to exist.
	Users []string
	// User is the image's own USER, "" for root.
	User string
	// AppUser is the account the image ships for applications to run
	// as (node's node, denoland/deno's deno), with its UID, "" when it
	// ships none the table knows: a USER can name it instead of a new
	// account.
	AppUser, AppUID string
	// DropsPrivileges says how the image's stock entrypoint or server
	// leaves root by itself, "" when it does not (or it is unknown).
	DropsPrivileges string
	// Entrypoint is the image's own ENTRYPOINT ([] for none), which an
	// image built FROM it runs its CMD through until it sets another;
	// EntrypointKnown is false when the table does not say.
	Entrypoint      []string
	EntrypointKnown bool
	// Env holds variables the image's ENV sets, as far as the table
	// knows them (GOPATH=/go in golang): a WORKDIR $GOPATH/src/app is
	// /go/src/app there. A variable that is not a key is unknown.
	Env map[string]string
	// Workdir is the image's own WORKDIR (golang's /go), "" for none: a
	// relative path then resolves against /. WorkdirUnknown is set when
	// the image sets one the table cannot name.
	Workdir        string
	WorkdirUnknown bool
	// DistroNote tells, for an image whose default tags moved to another
	// distribution, when and how (mysql's move to Oracle Linux), for
	// messages about what the old distribution had.
	DistroNote string
	// MovedFrom is the distribution entry the image's default tags left
	// (mysql's debian); MovedFromTag says which tags have a build there.
	MovedFrom string

	moved           *moved
	lines           map[string]line
	linesOnly       bool
	versionTagsOnly bool
	unknown         bool

	// ownTools and ownUsers are what the entry's chain says about the
	// product itself, above its distribution: onDistribution keeps these
	// and takes the rest from the other distribution. A nil value is a
	// tool the product makes unknown.
	ownTools map[string]*bool
	ownUsers []string
}

// Tool reports whether the image ships a command, and whether that is known.
func (i Image) Tool(name string) (present, known bool) {
	present, known = i.Tools[name]
	return present, known
}

// HasUser reports whether an account is known to exist.
func (i Image) HasUser(name string) bool {
	for _, u := range i.Users {
		if u == name {
			return true
		}
	}
	return false
}

type cycleError string

func (e cycleError) Error() string { return string(e) }

func (t *resolvedTable) resolve(key string, depth int) (Image, error) {
	if depth > 10 {
		return Image{}, cycleError("entry " + key + ": like chain too long or cyclic")
	}
	e, ok := t.Images[key]
	if !ok {
		return Image{}, cycleError("like names unknown entry " + key)
	}
	img := Image{Entry: key, Tools: map[string]bool{}}
	if e.Like != "" {
		parent, err := t.resolve(e.Like, depth+1)
		if err != nil {
			return Image{}, err
		}
		img = parent
		img.Entry = key
		img.Tools = make(map[string]bool, len(parent.Tools))
		for k, v := range parent.Tools {
			img.Tools[k] = v
		}
		img.Users = append([]string(nil), parent.Users...)
		img.ownTools = maps.Clone(parent.ownTools)
		img.ownUsers = slices.Clone(parent.ownUsers)
		// A derived image runs as root unless it says otherwise, and
		// its entrypoint is its own.
		img.User, img.DropsPrivileges = "", ""
		// The entry names its ENTRYPOINT itself or it is unknown: a
		// guess inherited from a distribution would hide a server's
		// docker-entrypoint.sh.
		img.Entrypoint, img.EntrypointKnown = nil, false
		// Like its USER, an image's WORKDIR is its own entry's to say.
		img.Workdir, img.WorkdirUnknown = "", false
	}
	if e.Distro != "" {
		img.Distro = e.Distro
	}
	if e.Userland != "" {
		img.Userland = e.Userland
	}
	distributionLayer := e.DistributionLayer
	if distributionLayer {
		img.ownTools, img.ownUsers = nil, nil
	}
	for k, v := range e.Tools {
		if !distributionLayer {
			if img.ownTools == nil {
				img.ownTools = map[string]*bool{}
			}
			img.ownTools[k] = v
		}
		if v == nil {
			delete(img.Tools, k)
			continue
		}
		img.Tools[k] = *v
	}
	for _, u := range e.Users {
		if !img.HasUser(u) {
			img.Users = append(img.Users, u)
		}
		if !distributionLayer && !slices.Contains(img.ownUsers, u) {
			img.ownUsers = append(img.ownUsers, u)
		}
	}
	if e.User != nil {
		img.User = *e.User
	}
	if e.AppUser != nil {
		img.AppUser, img.AppUID = e.AppUser.Name, e.AppUser.UID
	}
	img.DropsPrivileges = e.DropsPrivileges
	if e.Entrypoint != nil {
		img.Entrypoint, img.EntrypointKnown = append([]string{}, *e.Entrypoint...), true
	}
	if len(e.Env) > 0 {
		img.Env = maps.Clone(img.Env)
		if img.Env == nil {
			img.Env = map[string]string{}
		}
		maps.Copy(img.Env, e.Env)
	}
	if e.Workdir != "" {
		img.Workdir = e.Workdir
	}
	img.WorkdirUnknown = e.WorkdirUnknown
	if e.Moved != nil {
		img.moved, img.DistroNote = e.Moved, e.Moved.Note
		img.MovedFrom = e.Moved.From
	}
	img.lines, img.linesOnly = e.Lines, e.LinesOnly
	img.versionTagsOnly, img.unknown = e.VersionTagsOnly, e.Unknown
	return img, nil
}

// onLine is img as the release line tag names builds it, when the entry
// says how that line differs: mysql:5.7 has yum where 8.0 has microdnf.
// found is false when the entry holds only for its lines and tag names
// none of them.
func (img Image) onLine(tag string) (_ Image, found bool) {
	words := variants(tag)
	if len(img.lines) == 0 || len(words) == 0 {
		return img, !img.linesOnly
	}
	for name, l := range img.lines {
		if words[0] != name && !strings.HasPrefix(words[0], name+".") {
			continue
		}
		img.Tools = maps.Clone(img.Tools)
		for k, v := range l.Tools {
			if v == nil {
				delete(img.Tools, k)
				continue
			}
			img.Tools[k] = *v
		}
		if l.User != nil {
			img.User = *l.User
		}
		if l.DropsPrivileges != nil {
			img.DropsPrivileges = *l.DropsPrivileges
		}
		return img, true
	}
	return img, !img.linesOnly
}

// Lookup finds an image by registry ("docker.io" for Docker Hub),
// repository without Docker Hub's "library/" prefix, and tag. Official
// images are recognised on any registry that mirrors them under the same
// name; other repositories only where the table names them. The tag picks
// the variant: a word of it that names an entry ("alpine3.20" → alpine,
// "bookworm-slim" → slim, "8.3-apache" → apache) wins over the default.
func Lookup(registry, repository, tag string) (Image, bool) {
	img, ok := lookup(registry, repository, tag)
	if ok {
		img, ok = img.onLine(tag)
	}
	if !ok {
		return Image{}, false
	}
	return img, true
}

func lookup(registry, repository, tag string) (Image, bool) {
	repository = strings.ToLower(repository)
	var names []string
	if repository == "scratch" {
		names = append(names, "scratch")
	} else {
		full := repository
		if registry != "" && registry != "docker.io" {
			full = registry + "/" + repository
		}
		names = append(names, full)
		if registry != "" && registry != "docker.io" && !strings.Contains(repository, "/") {
			// A mirror of an official image keeps its name.
			names = append(names, repository)
		}
		if i := strings.LastIndex(full, "/"); i > 0 {
			names = append(names, full[:i]+"/*")
		}
		if strings.Count(full, "/") > 1 {
			// gcr.io/distroless/static-debian12 → gcr.io/distroless/*
			parts := strings.SplitN(full, "/", 3)
			names = append(names, parts[0]+"/"+parts[1]+"/*")
		}
	}
	resolved := loaded().resolved
	foreign := tagFamily(tag)
	keys := variantKeys(tag)
	for _, name := range names {
		for _, v := range keys {
			if img, ok := resolved[name+":"+v]; ok && img.unknown {
				return Image{}, false
			}
		}
		for _, v := range keys {
			if img, ok := resolved[name+":"+v]; ok {
				return img, true
			}
		}
		if img, ok := resolved[name]; ok {
			if img.versionTagsOnly && !versionTag(tag) {
				return Image{}, false
			}
			if foreign != "" && foreign != img.Distro {
				// eclipse-temurin:21-jdk-ubi9-minimal is not the Ubuntu
				// image the entry describes, and the table has no UBI
				// entry to read it on.
				return Image{}, false
			}
			if v, base := distroVariant(tag); base != "" && (v == "alpine" || v == "slim" || resolved[base].Distro != img.Distro) {
				// A release name (bookworm, jammy) re-bases only an image
				// of another distribution: node:20-bookworm is the node
				// entry itself.
				// ruby:3.2-alpine is not the Debian-based image the ruby
				// entry describes: it has no curl, git or bash. The table
				// has no ruby:alpine, so the entry is read on the
				// distribution's image instead.
				if img.linesOnly {
					// What its lines say is of their default builds.
					return Image{}, false
				}
				return onDistribution(img, resolved[base], name+":"+v), true
			}
			if img.moved != nil && img.moved.before(tag) {
				// mysql:8.0.28 was built on Debian, before the move.
				return onDistribution(img, resolved[img.moved.From], name+":"+img.moved.From), true
			}
			return img, true
		}
	}
	return Image{}, false
}

// distroVariant returns the word of a tag that names a distribution
// variant (alpine, slim) and the entry of that distribution; "" when the
// tag names none.
func distroVariant(tag string) (variant, entry string) {
	for _, v := range variants(tag) {
		switch v {
		case "alpine":
			return v, "alpine"
		case "slim":
			return v, "debian:slim"
		}
	}
	for _, v := range variants(tag) {
		switch v {
		case "debian", "bookworm", "bullseye", "buster", "trixie":
			// mysql:8.0-debian is not the Oracle Linux image the mysql
			// entry describes: it has apt-get.
			return v, "debian"
		case "ubuntu", "focal", "jammy", "noble":
			return v, "ubuntu"
		}
	}
	return "", ""
}

// onDistribution is img as the variant of it built on another
// distribution's image: that distribution's family, userland, tools and
// accounts, plus what img's own entries say about the product (its
// language's or server's tools and accounts, user, entrypoint and way of
// dropping privileges), which an official image keeps across its
// variants. What img inherited from its own distribution (Debian's apt,
// buildpack-deps' curl and git, www-data) is not carried over.
func onDistribution(img, distro Image, entry string) Image {
	out := img
	out.Entry = entry
	// How the default tags moved is not this variant's story.
	out.DistroNote, out.moved, out.MovedFrom, out.lines = "", nil, "", nil
	out.Distro, out.Userland = distro.Distro, distro.Userland
	out.Tools = maps.Clone(distro.Tools)
	if out.Tools == nil {
		out.Tools = map[string]bool{}
	}
	for k, v := range img.ownTools {
		if distributionTools[k] {
			// mysql's "no apt-get" is its Oracle Linux's, not the
			// product's: the Debian variant has it.
			continue
		}
		if v == nil {
			delete(out.Tools, k)
			continue
		}
		out.Tools[k] = *v
	}
	out.Users = slices.Clone(distro.Users)
	for _, u := range img.ownUsers {
		if !slices.Contains(out.Users, u) {
			out.Users = append(out.Users, u)
		}
	}
	return out
}

// variantKeys lists what in a tag can name a variant entry, most specific
// first: two adjacent words (bookworm-slim, which is not the bookworm
// variant), then the words variants lists.
func variantKeys(tag string) []string {
	words := variants(tag)
	var out []string
	for i := 0; i+1 < len(words); i++ {
		if !strings.Contains(words[i], "-") && !strings.Contains(words[i+1], "-") {
			out = append(out, words[i]+"-"+words[i+1])
		}
	}
	return append(out, words...)
}

// versionTag reports a tag that names no variant: none, latest, or a
// version (0.5, 0.5.11).
func versionTag(tag string) bool {
	return tag == "" || tag == "latest" || strings.Trim(tag, "0123456789.") == ""
}

// variants lists the words of a tag that can name a variant entry.
func variants(tag string) []string {
	var out []string
	if strings.Contains(strings.ToLower(tag), "alpine-slim") {
		// nginx's alpine-slim is alpine without the extras (curl) its
		// alpine variant adds.
		out = append(out, "alpine-slim")
	}
	if strings.Contains(strings.ToLower(tag), "fpm-alpine") {
		// php's fpm-alpine is the FPM server on Alpine: neither the
		// Debian fpm entry nor the alpine one alone.
		out = append(out, "fpm-alpine")
	}
	for _, w := range strings.FieldsFunc(strings.ToLower(tag), func(r rune) bool { return r == '-' || r == '_' }) {
		switch {
		case strings.HasPrefix(w, "alpine"):
			w = "alpine"
		case strings.HasPrefix(w, "slim"):
			w = "slim"
		}
		out = append(out, w)
	}
	return out
}

// distributionTools are the package managers an image has from its
// distribution, whatever its own entry says of them.
var distributionTools = map[string]bool{"apt-get": true, "apt": true, "dpkg": true, "apk": true, "dnf": true, "yum": true,
	"microdnf": true, "rpm": true, "zypper": true}

// before reports a tag that names a version released before the move: a
// full version under its line's first moved one (8.0.28), or any version
// of a line older than every line that moved (5.6). A tag naming a variant
// (8.0.28-oracle), a floating line (8.0, 5) or no version is after it:
// those tags point at today's builds.
func (m *moved) before(tag string) bool {
	words := variants(tag)
	if len(words) == 0 || len(words) > 1 {
		return false
	}
	parts := strings.Split(words[0], ".")
	for _, p := range parts {
		if p == "" || strings.Trim(p, "0123456789") != "" || len(p) > 4 {
			return false
		}
	}
	if len(parts) < 2 {
		return false
	}
	line := parts[0] + "." + parts[1]
	if first, ok := m.Since[line]; ok {
		return len(parts) >= 3 && versionLess(words[0], first)
	}
	for l := range m.Since {
		if !versionLess(line, l) {
			return false
		}
	}
	return true
}

// MovedFromTag is the tag of the same release's build on the
// distribution the image's default tags left (mysql:8.0 →
// 8.0-debian), "" when there is none: the tag names no release line that
// moved (8.4, latest), names a variant, or pins a version built after the
// line's builds there stopped (5.7.44: Debian builds ended with 5.7.42).
func (img Image) MovedFromTag(tag string) string {
	if img.moved == nil || strings.ContainsAny(tag, "-_") {
		return ""
	}
	for line := range img.moved.Since {
		if tag != line && !strings.HasPrefix(tag, line+".") {
			continue
		}
		if last, ok := img.moved.Last[line]; ok && tag != line && versionLess(last, tag) {
			return ""
		}
		return tag + "-" + img.moved.From
	}
	return ""
}

// versionLess compares dotted numeric versions.
func versionLess(a, b string) bool {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(as) && i < len(bs); i++ {
		x, _ := strconv.Atoi(as[i])
		y, _ := strconv.Atoi(bs[i])
		if x != y {
			return x < y
		}
	}
	return len(as) < len(bs)
}

// tagFamily is the family of a distribution a tag word names that the
// table has no entry to read a variant on (ubi9, oraclelinux9, windowsservercore),
// "" when it names none.
func tagFamily(tag string) string {
	for _, w := range variants(tag) {
		switch {
		case strings.HasPrefix(w, "ubi") || strings.HasPrefix(w, "oracle") || strings.HasPrefix(w, "centos") ||
			strings.HasPrefix(w, "rocky") || strings.HasPrefix(w, "alma") || strings.HasPrefix(w, "amazonlinux") ||
			strings.HasPrefix(w, "fedora") || w == "al2" || w == "al2023" || w == "corretto":
			// tomcat:10-jdk17-corretto is Amazon Linux.
			return "rhel"
		case strings.HasPrefix(w, "windowsservercore") || strings.HasPrefix(w, "nanoserver") || strings.HasPrefix(w, "ltsc"):
			return "windows"
		case strings.HasPrefix(w, "opensuse") || strings.HasPrefix(w, "leap") || strings.HasPrefix(w, "sles"):
			return "suse"
		}
	}
	return ""
}
