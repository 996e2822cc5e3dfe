package analyzer

import (
	"strconv"
	"strings"
)

// ImageRef is a parsed image reference such as
// `registry.example.com:5000/team/app:1.2@sha256:…`.
type ImageRef struct {
	// Raw is the reference after ARG substitution.
	Raw string
	// Registry is "docker.io" when the reference names none.
	Registry string
	// Repository is the path without registry, with Docker Hub's implicit
	// "library/" removed ("node", "bitnami/redis").
	Repository string
	Tag        string
	Digest     string
	// Unresolved is true when ARGs without defaults remain in the reference.
	Unresolved bool
	// path is the repository as written, which String writes back: a
	// mirror's path keeps the "library/" Docker Hub leaves implicit
	// (mirror.gcr.io/library/node).
	path string
}

// ParseImageRef splits an image reference. It is lenient: Dockerfiles in the
// wild hold references that only a registry would reject.
func ParseImageRef(raw string) ImageRef {
	r := ImageRef{Raw: raw, Registry: "docker.io"}
	rest := raw
	if i := strings.Index(rest, "@"); i >= 0 {
		r.Digest = rest[i+1:]
		rest = rest[:i]
	}
	if i := strings.Index(rest, "/"); i >= 0 {
		first := rest[:i]
		if strings.ContainsAny(first, ".:") || first == "localhost" {
			r.Registry = first
			rest = rest[i+1:]
		}
	}
	if i := strings.LastIndex(rest, ":"); i >= 0 && !strings.Contains(rest[i:], "/") {
		r.Tag = rest[i+1:]
		rest = rest[:i]
	}
	r.path = rest
	r.Repository = strings.TrimPrefix(strings.ToLower(rest), "library/")
	if r.Registry == "index.docker.io" || r.Registry == "registry-1.docker.io" {
		r.Registry = "docker.io"
	}
	return r
}

// Name is the last path element of the repository ("node" for "library/node").
func (r ImageRef) Name() string {
	if i := strings.LastIndex(r.Repository, "/"); i >= 0 {
		return r.Repository[i+1:]
	}
	return r.Repository
}

// officialMirrors are the registries that serve the Docker Official Images
// themselves, every tag of them, under a path of their own.
var officialMirrors = map[string]string{
	"mirror.gcr.io":  "",
	"public.ecr.aws": "docker/library/",
}

// Official returns the name of the Docker Official Image the reference
// names ("node"), on Docker Hub or on a mirror that serves those images
// themselves (mirror.gcr.io/library/node, public.ecr.aws/docker/library/node),
// and "" for any other image: what the official image ships, and which
// tags it has, hold on those mirrors too.
func (r ImageRef) Official() string {
	prefix, ok := officialMirrors[r.Registry]
	if r.Registry != "docker.io" && !ok {
		return ""
	}
	name, found := strings.CutPrefix(r.Repository, prefix)
	if !found || name == "" || strings.Contains(name, "/") {
		return ""
	}
	return name
}

// OnRegistryOf writes an official image's reference (node:20-slim) on the
// registry r pulls from, so that a suggestion keeps the mirror the
// Dockerfile chose: public.ecr.aws/docker/library/node:20-slim for an
// image of public.ecr.aws/docker/library. Other references are returned
// as they are.
func (r ImageRef) OnRegistryOf(official string) string {
	o := ParseImageRef(official)
	if r.Official() == "" || r.Registry == "docker.io" || o.Registry != "docker.io" || strings.Contains(o.Repository, "/") {
		return official
	}
	return r.Registry + "/" + r.path[:strings.LastIndex(r.path, "/")+1] + official
}

// WithTag writes the reference with another tag, on the registry and path
// it was written with, dropping a digest that belonged to the old tag.
func (r ImageRef) WithTag(tag string) string {
	if r.Digest == "" && r.Tag != "" && strings.HasSuffix(r.Raw, ":"+r.Tag) {
		// docker.io/library/mysql:8.0 stays spelled so.
		return strings.TrimSuffix(r.Raw, r.Tag) + tag
	}
	r.Tag, r.Digest = tag, ""
	return r.String()
}

// IsScratch reports the empty base image.
func (r ImageRef) IsScratch() bool { return strings.EqualFold(r.Raw, "scratch") }

// Pinned reports whether the reference is pinned by digest.
func (r ImageRef) Pinned() bool { return strings.HasPrefix(r.Digest, "sha256:") }

// Untagged reports a reference with neither tag nor digest (implicit latest).
func (r ImageRef) Untagged() bool { return r.Tag == "" && r.Digest == "" }

// IsWindows reports Windows base images, on which POSIX shell rules do not apply.
func (r ImageRef) IsWindows() bool {
	repo := r.Repository
	if strings.HasPrefix(repo, "windows") || strings.Contains(repo, "/windows") ||
		strings.Contains(repo, "nanoserver") || strings.Contains(repo, "servercore") {
		return true
	}
	if strings.HasPrefix(repo, "dotnet/framework/") {
		// .NET Framework runs on Windows only: every image of
		// mcr.microsoft.com/dotnet/framework (aspnet, sdk, runtime, wcf)
		// is built FROM windows/servercore, whatever its tag (aspnet:4.8).
		return true
	}
	t := strings.ToLower(r.Tag)
	return strings.Contains(t, "windowsservercore") || strings.Contains(t, "nanoserver") || strings.Contains(t, "ltsc20")
}

// IsDistroless reports images with no shell and no package manager.
func (r ImageRef) IsDistroless() bool {
	return strings.Contains(r.Repository, "distroless") || strings.HasPrefix(r.Repository, "chainguard/") ||
		r.Registry == "cgr.dev"
}

// Distro guesses the Linux distribution family of an image from its name and
// tag: "debian", "alpine", "rhel", "suse", "wolfi", "distroless", "scratch",
// or "".
// Beyond what NamedDistro says, it reads a -slim tag and an official
// language image without a variant tag as Debian, which is usually but not
// always so (oraclelinux:9-slim).
func (r ImageRef) Distro() string {
	if fam := r.NamedDistro(); fam != "" {
		return fam
	}
	if strings.Contains(strings.ToLower(r.Tag), "slim") {
		return "debian"
	}
	// Official language images without a variant tag are Debian based.
	switch r.Official() {
	case "node", "python", "golang", "ruby", "php", "eclipse-temurin", "maven", "gradle", "rust", "perl", "buildpack-deps", "nginx", "httpd", "redis", "postgres", "mysql":
		return "debian"
	}
	return ""
}

// NamedDistro is the distribution family the reference names outright: a
// distribution's own image (alpine, ubuntu, rockylinux, ubi9) or a tag
// word that names a release (alpine3.20, bookworm, jammy); "" otherwise.
// Names are read before tags: oraclelinux:9-slim is not Debian.
func (r ImageRef) NamedDistro() string {
	if r.IsScratch() {
		return "scratch"
	}
	if r.Registry == "cgr.dev" && r.Repository == "chainguard/wolfi-base" {
		// Chainguard's image to apk add in, unlike its distroless ones.
		return "wolfi"
	}
	if r.IsDistroless() {
		return "distroless"
	}
	name, tag := r.Name(), strings.ToLower(r.Tag)
	switch {
	case name == "alpine":
		return "alpine"
	case name == "debian" || name == "ubuntu":
		return "debian"
	case name == "centos" || name == "fedora" || name == "rockylinux" || name == "almalinux" || strings.HasPrefix(name, "ubi") ||
		name == "amazonlinux" || name == "oraclelinux" || strings.Contains(r.Repository, "ubi8") || strings.Contains(r.Repository, "ubi9"):
		return "rhel"
	case strings.Contains(name, "opensuse") || strings.Contains(name, "sles") || strings.Contains(r.Repository, "suse"):
		return "suse"
	case strings.Contains(tag, "alpine"):
		return "alpine"
	case strings.Contains(tag, "bookworm") || strings.Contains(tag, "bullseye") || strings.Contains(tag, "trixie") ||
		strings.Contains(tag, "buster") || strings.Contains(tag, "jammy") || strings.Contains(tag, "noble") || strings.Contains(tag, "focal"):
		return "debian"
	case strings.Contains(tag, "oraclelinux"):
		// openjdk:17-oraclelinux8, mysql:8.0-oraclelinux8.
		return "rhel"
	case r.Official() == "openjdk" && !r.IsWindows():
		return openjdkDistro(tag)
	}
	return ""
}

// openjdkDistro is the distribution of the official openjdk image's
// Linux tags that name no distribution. docker-library/openjdk's
// generate-stackbrew-library.sh gives the tags without a variant (17,
// 17-jdk, 11-jre, 8u342) to the Oracle Linux build from Java 12 on
// (oraclelinux7, then oraclelinux8; 17-oracle in the older layout) and to
// the Debian one before 12; the slim tags are Debian's slim images for
// every version. latest and the tags without a version moved with the
// newest release, and words it does not know may name another variant:
// those name none.
func openjdkDistro(tag string) string {
	words := strings.Split(tag, "-")
	end := 0
	for end < len(words[0]) && words[0][end] >= '0' && words[0][end] <= '9' {
		end++
	}
	major, err := strconv.Atoi(words[0][:end])
	if err != nil {
		return ""
	}
	fam := "debian"
	if major >= 12 {
		fam = "rhel"
	}
	for _, w := range words[1:] {
		switch {
		case w == "jdk" || w == "jre" || w == "ea" || strings.Trim(w, "0123456789") == "":
		case w == "slim":
			return "debian"
		case w == "oracle":
			return "rhel"
		default:
			return ""
		}
	}
	return fam
}

// OpenJDKOracleBuild names the Oracle Linux build ("oraclelinux7",
// "oraclelinux8") an official openjdk tag without a distribution word
// points at, "" when it is not one or when the build varied: Java 12 and
// 13 had one, FROM oraclelinux:7-slim ("oracle"); 14 to 16 moved from it
// to oraclelinux7 and oraclelinux8 builds under the same tags; 17 on made
// oraclelinux8 the default (docker-library/openjdk
// generate-stackbrew-library.sh picks the first Oracle Linux variant).
func OpenJDKOracleBuild(r ImageRef) string {
	tag := strings.ToLower(r.Tag)
	if r.Official() != "openjdk" || r.IsWindows() || strings.Contains(tag, "oraclelinux") || openjdkDistro(tag) != "rhel" {
		return ""
	}
	major, _ := tagMajor(tag)
	switch {
	case major == 12 || major == 13:
		return "oraclelinux7"
	case major >= 17:
		return "oraclelinux8"
	}
	return ""
}

// WithoutTagAndDigest returns registry and repository as written.
func (r ImageRef) String() string {
	s := r.Repository
	if r.Registry != "docker.io" {
		if r.path != "" {
			s = r.path
		}
		s = r.Registry + "/" + s
	}
	if r.Tag != "" {
		s += ":" + r.Tag
	}
	if r.Digest != "" {
		s += "@" + r.Digest
	}
	return s
}
