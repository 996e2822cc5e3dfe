package rules

import (
	"strconv"
	"strings"

	"github.com/dockopt/dockopt/analyzer"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
)

// AddToExtractArchive mirrors hadolint DL3010.
var AddToExtractArchive = &analyzer.Rule{
	ID:       "add-to-extract-archive",
	Category: analyzer.CategorySize,
	Severity: analyzer.SeverityInfo,
	Title:    "Archive copied with COPY and then unpacked with tar",
	Rationale: `COPY of a tarball followed by "RUN tar -x" stores the archive in one layer and its contents in ` +
		`another: the image carries both, even if the archive is deleted later. ADD unpacks a local tar archive ` +
		`(gzip, bzip2 or xz) in one step and keeps only the contents. Unlike hadolint, which reports every ` +
		`archive that is copied, this fires only when a later RUN of the same stage actually unpacks it, since ` +
		`copying an archive to serve or load it as is has nothing to do with ADD. Formats ADD cannot unpack are ` +
		`left alone.`,
	Bad:         "COPY vendor.tar.gz /tmp/\nRUN tar -xzf /tmp/vendor.tar.gz -C /opt && rm /tmp/vendor.tar.gz\n",
	Good:        "ADD vendor.tar.gz /opt/\n",
	Equivalents: []string{"hadolint:DL3010"},
	Check: func(p *analyzer.Pass) {
		for _, s := range p.File.Stages {
			for i, in := range s.Instructions {
				cp, ok := in.Command.(*instructions.CopyCommand)
				if !ok || cp.From != "" {
					continue
				}
				// A single file copied to a destination that is not a folder
				// takes the destination's name.
				dest := strings.Trim(cp.DestPath, `"'`)
				renamed := ""
				if len(cp.SourcePaths) == 1 && !strings.HasSuffix(dest, "/") && !strings.HasSuffix(dest, `\`) {
					renamed = archiveBase(dest)
				}
				for _, src := range cp.SourcePaths {
					src = strings.Trim(src, `"'`)
					if !addUnpacks(src) || strings.ContainsAny(src, "*?[$") {
						continue
					}
					if run := extractedLater(s.Instructions[i+1:], archiveBase(src), renamed); run != nil {
						p.Reportf(in, "%s is copied and then unpacked on line %s; ADD unpacks it in one layer without keeping the archive",
							src, strconv.Itoa(run.StartLine))
						break
					}
				}
			}
		}
	},
}

// addUnpacks reports archive names ADD extracts: tar, plain or compressed
// with gzip, bzip2 or xz.
func addUnpacks(name string) bool {
	for _, ext := range []string{".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz", ".tbz2", ".tb2", ".tar.xz", ".txz"} {
		if strings.HasSuffix(name, ext) {
			return true
		}
	}
	return false
}

// extractedLater returns the first RUN that extracts an archive of that
// base name with tar.
// archiveBase is the last element of a path written with / or, for
// Windows paths, \.
func archiveBase(p string) string {
	if i := strings.LastIndexAny(p, `/\`); i >= 0 {
		return p[i+1:]
	}
	return p
}

func extractedLater(ins []*analyzer.Instruction, names ...string) *analyzer.Instruction {
	for _, in := range ins {
		if in.Keyword != "RUN" || in.Script == nil {
			continue
		}
		for _, c := range in.Script.CommandsNamed("tar") {
			if !tarExtracts(c) {
				continue
			}
			for _, n := range names {
				if n != "" && tarNamesArchive(c, n) {
					return in
				}
			}
		}
	}
	return nil
}

func tarExtracts(c analyzer.Command) bool {
	if c.Has("--extract", "--get") || c.HasShortFlag('x') {
		return true
	}
	// Old-style bundled options without a dash: tar xzf file.
	return len(c.Args) > 0 && !strings.HasPrefix(c.Args[0].Value, "-") && strings.Contains(c.Args[0].Value, "x") &&
		strings.Trim(c.Args[0].Value, "xvzjJfpok") == ""
}

func tarNamesArchive(c analyzer.Command, base string) bool {
	for _, a := range c.Args {
		v := a.Value
		v = strings.TrimPrefix(v, "--file=")
		if archiveBase(v) == base {
			return true
		}
	}
	return false
}
