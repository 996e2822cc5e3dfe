package rules

import (
	"fmt"
	"path"
	"strings"

	"github.com/dockopt/dockopt/analyzer"
)

// BuildToolchainInFinalImage finds compilers and SDKs that ship in the
// final image although only the build needed them.
var BuildToolchainInFinalImage = &analyzer.Rule{
	ID:       "build-toolchain-in-final-image",
	Category: analyzer.CategorySize,
	Severity: analyzer.SeverityWarning,
	Title:    "Final image ships the toolchain it was built with",
	Rationale: `Compilers, SDKs and build tools are needed to produce the application, not to run it. Left in ` +
		`the final image (a golang, rust, maven or JDK base, or gcc and make installed and never removed) ` +
		`they add hundreds of megabytes to every pull and every node's disk, lengthen vulnerability reports ` +
		`with packages the service never uses, and hand an attacker a compiler. A multi-stage build keeps ` +
		`them in a build stage and copies only the artifact into a runtime image. Dockerfiles named for ` +
		`development or CI (Dockerfile.dev, Dockerfile.test) and images that build nothing and start nothing ` +
		`(toolchain images on purpose) are not reported. The multi-stage rewrite is done by the patcher.`,
	Bad:       "FROM golang:1.22\nWORKDIR /src\nCOPY . .\nRUN go build -o /app .\nCMD [\"/app\"]\n",
	Good:      "FROM golang:1.22 AS build\nWORKDIR /src\nCOPY . .\nRUN CGO_ENABLED=0 go build -o /app .\nFROM gcr.io/distroless/static-debian12:nonroot\nCOPY --from=build /app /app\nCMD [\"/app\"]\n",
	POSIXOnly: true,
	Check: func(p *analyzer.Pass) {
		d := p.File
		final := d.FinalStage()
		if final == nil || devDockerfile(d.Path) {
			return
		}
		root := final.Root()
		builds := buildCommand(final)
		if startInstruction(d) == nil || interactiveShell(analyzer.StartCommand(d)) {
			return // a toolchain, base or toolbox image on purpose
		}
		if tool, runtime := toolchainImage(root.Base, builds); tool != "" {
			what := "it starts the application"
			if builds != "" {
				what = "it runs " + builds
			}
			p.Report(root.From, fmt.Sprintf("the final image is %s, %s, and %s in it; the runtime needs only %s: build in a stage FROM %s AS build and copy the artifact into a runtime image",
				root.Base.Raw, tool, what, runtime, root.Base.Raw), nil)
		}
		checkInstalledToolchain(p, final)
	},
}

// devDockerfile reports Dockerfiles meant for development or CI, where
// a toolchain is the point.
func devDockerfile(p string) bool {
	l := strings.ToLower(p)
	base := path.Base(l)
	for _, w := range []string{"dev", "test", "ci", "debug", "local", "builder", "toolchain"} {
		if strings.HasSuffix(base, "."+w) || strings.HasPrefix(base, w+".") || strings.Contains(base, "."+w+".") || strings.Contains(base, "-"+w) {
			return true
		}
	}
	return strings.Contains(l, ".devcontainer/")
}

// buildCommand returns the first compile or package command of the
// final image's stages, "" if none.
func buildCommand(final *analyzer.Stage) string {
	for _, in := range final.LineageInstructions() {
		if in.Script == nil {
			continue
		}
		for _, c := range in.Script.Commands() {
			sub := c.Subcommand()
			switch c.Name {
			case "go":
				if sub == "build" || sub == "install" {
					return "go " + sub
				}
			case "cargo":
				if sub == "build" || sub == "install" {
					return "cargo " + sub
				}
			case "mvn", "mvnw", "gradle", "gradlew":
				return c.Name + " " + sub
			case "javac", "sbt":
				return c.Name
			case "dotnet":
				if sub == "publish" || sub == "build" {
					return "dotnet " + sub
				}
			}
		}
	}
	return ""
}

// toolchainImage names the toolchain a base image is and what the
// runtime needs instead.
func toolchainImage(r analyzer.ImageRef, builds string) (tool, runtime string) {
	name, tag := r.Name(), strings.ToLower(r.Tag)
	switch {
	case name == "golang" || name == "go":
		return "the Go toolchain", "the compiled binary (distroless/static, alpine or scratch)"
	case name == "rust":
		return "the Rust toolchain (rustc, cargo)", "the compiled binary (debian-slim or distroless/cc)"
	case name == "maven":
		return "Maven with a full JDK", "a JRE (eclipse-temurin:<version>-jre) and the built jar"
	case name == "gradle":
		return "Gradle with a full JDK", "a JRE (eclipse-temurin:<version>-jre) and the built jar"
	case strings.Contains(r.Repository, "dotnet/sdk"):
		return "the .NET SDK", "the published output on mcr.microsoft.com/dotnet/aspnet or dotnet/runtime"
	case (name == "openjdk" || name == "eclipse-temurin" || name == "amazoncorretto" || name == "sapmachine" || name == "ibm-semeru-runtimes") &&
		!strings.Contains(tag, "jre") && builds != "" && !strings.HasPrefix(builds, "go") && !strings.HasPrefix(builds, "cargo"):
		return "a full JDK", "a JRE (a -jre tag) and the built jar"
	}
	return "", ""
}

// compilerPackages are packages that exist to compile software. make
// and cmake alone are also task runners, so they are only named along
// with a compiler.
var compilerPackages = map[string]bool{
	"build-essential": true, "gcc": true, "g++": true, "clang": true, "build-base": true, "gcc-c++": true,
	"cargo": true, "rustc": true, "golang": true, "go": true, "maven": true, "gradle": true, "default-jdk": true,
	"openjdk-17-jdk": true, "openjdk-21-jdk": true,
}

// buildHelpers include the C library's headers and dpkg's build tools:
// -dev packages whose runtime part every image already has, or that have
// none (the runtime needs no "runtime library of libc6-dev").
var buildHelpers = map[string]bool{"make": true, "cmake": true, "autoconf": true, "automake": true, "libtool": true, "ninja-build": true,
	"musl-dev": true, "libc6-dev": true, "libc-dev": true, "linux-libc-dev": true, "dpkg-dev": true, "pkg-config": true, "pkgconf": true}

// interactiveShell reports a start command that only opens a shell:
// a toolbox or CI image, where the tools are the point.
func interactiveShell(words []string) bool {
	if len(words) == 0 {
		return false
	}
	for _, w := range words {
		switch path.Base(w) {
		case "bash", "sh", "zsh", "ash", "-l", "-c", "-i", "--login":
		default:
			return false
		}
	}
	return true
}

// runtimeLib maps development packages to the runtime library they need.
var runtimeLib = map[string]string{
	"libpq-dev": "libpq5", "libssl-dev": "libssl3", "libffi-dev": "libffi8", "libxml2-dev": "libxml2",
	"libxslt1-dev": "libxslt1.1", "zlib1g-dev": "zlib1g", "libjpeg-dev": "libjpeg62-turbo",
	"default-libmysqlclient-dev": "libmariadb3", "libsqlite3-dev": "libsqlite3-0", "libyaml-dev": "libyaml-0-2",
	"postgresql-dev": "libpq", "openssl-dev": "openssl", "libffi-dev@alpine": "libffi", "mariadb-dev": "mariadb-connector-c",
}

// checkInstalledToolchain reports compilers the final image's RUNs install
// and nothing removes (the stage facts follow removals by name, by apk
// --virtual group, and by the apt-mark auto / --auto-remove idiom).
func checkInstalledToolchain(p *analyzer.Pass, final *analyzer.Stage) {
	byInstr := map[*analyzer.Instruction][]string{}
	var order []*analyzer.Instruction
	devs := map[*analyzer.Instruction][]string{}
	helpers := map[*analyzer.Instruction][]string{}
	for _, ip := range p.Facts().Stage(final).Packages() {
		if ip.Removed || ip.In == nil {
			continue
		}
		name := ip.Name
		switch {
		case compilerPackages[name]:
			if byInstr[ip.In] == nil {
				order = append(order, ip.In)
			}
			byInstr[ip.In] = append(byInstr[ip.In], name)
		case buildHelpers[name]:
			helpers[ip.In] = append(helpers[ip.In], name)
		case strings.HasSuffix(name, "-dev") || strings.HasSuffix(name, "-devel"):
			lib := runtimeLib[name]
			if ip.Manager == "apk" && runtimeLib[name+"@alpine"] != "" {
				lib = runtimeLib[name+"@alpine"]
			}
			switch {
			case lib != "":
				devs[ip.In] = append(devs[ip.In], lib+" (not "+name+")")
			case strings.HasPrefix(name, "lib"):
				devs[ip.In] = append(devs[ip.In], "the runtime library of "+name)
			}
		}
	}
	for _, in := range order {
		need := "the built artifacts"
		if libs := devs[in]; len(libs) > 0 {
			need += " and " + strings.Join(libs, ", ")
		}
		p.Report(in, fmt.Sprintf("build tools installed here and never removed stay in the final image (%s); the runtime needs only %s: compile in a build stage and copy the result, or remove the build packages in the same RUN",
			strings.Join(append(byInstr[in], helpers[in]...), ", "), need), nil)
	}
}
