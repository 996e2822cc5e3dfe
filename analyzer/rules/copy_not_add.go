package rules

import (
	"bytes"
	"path"
	"strings"

	"github.com/dockopt/dockopt/analyzer"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
)

// CopyNotAdd mirrors hadolint DL3020.
var CopyNotAdd = &analyzer.Rule{
	ID:       "copy-not-add",
	Category: analyzer.CategoryMaintainability,
	Severity: analyzer.SeverityError,
	Title:    "ADD used to copy local files",
	Rationale: `ADD does more than copy: it downloads URLs, clones git repositories and silently unpacks local ` +
		`tar archives. For plain files and folders that magic is a trap, because a file that happens to be a ` +
		`tarball ends up extracted. COPY says exactly what happens. ADD stays right for URLs, git sources and ` +
		`archives meant to be unpacked, and those are not reported; ADD does not unpack a zip file, so ADD of ` +
		`one is. The fix renames ADD to COPY only when no ` +
		`source has a wildcard (which could match an archive) or an ADD-only flag.`,
	Bad:         "ADD requirements.txt /app/\n",
	Good:        "COPY requirements.txt /app/\n",
	Equivalents: []string{"hadolint:DL3020", "trivy:DS005"},
	Fix:         analyzer.Safe,
	Check: func(p *analyzer.Pass) {
		for in := range p.File.Each("ADD") {
			add, ok := in.Command.(*instructions.AddCommand)
			if !ok || len(add.SourcePaths) == 0 && len(add.SourceContents) == 0 {
				continue
			}
			exact := true
			for _, src := range add.SourcePaths {
				// Quotes are the shell's, not part of the name.
				src = strings.Trim(src, `"'`)
				if isRemoteSource(src) || isArchiveName(src) || strings.Contains(src, "$") {
					exact = false
					break
				}
			}
			if !exact || addsArchive(p.Context, add.SourcePaths) {
				continue
			}
			fixable := !addOnlyFlags(in)
			for _, src := range add.SourcePaths {
				if strings.ContainsAny(src, "*?[") {
					fixable = false
				}
			}
			var fix *analyzer.Fix
			if fixable {
				kw := "COPY"
				if in.Written == strings.ToLower(in.Written) {
					kw = "copy"
				} else if in.Written != strings.ToUpper(in.Written) {
					kw = "Copy"
				}
				fix = &analyzer.Fix{Message: "use COPY", Edits: []analyzer.TextEdit{{Start: in.KeywordStart, End: in.KeywordStart + len(in.Written), New: kw}}}
			}
			p.Report(in, "ADD of local files; use COPY, which does not unpack archives or fetch URLs", fix)
		}
	},
}

// isArchiveName follows hadolint's list of names ADD may be meant to unpack,
// without .zip: ADD copies a zip file as it is, so it is not unpacked either.
func isArchiveName(src string) bool {
	for _, ext := range []string{".tar", ".gz", ".bz2", ".xz", ".zst", ".tgz", ".tb2", ".tbz", ".tbz2", ".lz", ".lzma", ".tlz", ".txz", ".Z", ".tZ"} {
		if strings.HasSuffix(src, ext) {
			return true
		}
	}
	return false
}

// addOnlyFlags reports flags COPY does not accept.
func addOnlyFlags(in *analyzer.Instruction) bool {
	for _, f := range []string{"checksum", "keep-git-dir", "unpack"} {
		if _, ok := in.Flag(f); ok {
			return true
		}
	}
	return false
}

// addsArchive reports a source that is a file of the build context whose
// content is an archive ADD unpacks: ADD tells archives by their bytes,
// not their name, so a renamed tarball is unpacked all the same, and COPY
// would put the archive itself in the image.
func addsArchive(bc *analyzer.BuildContext, sources []string) bool {
	for _, src := range sources {
		rel := strings.TrimPrefix(path.Clean("/"+strings.Trim(src, `"'`)), "/")
		head, err := bc.ReadHead(rel, 512)
		if err != nil {
			continue // a folder, or not in the context: nothing to unpack
		}
		switch {
		case bytes.HasPrefix(head, []byte{0x1f, 0x8b}), bytes.HasPrefix(head, []byte("BZh")),
			bytes.HasPrefix(head, []byte{0xfd, '7', 'z', 'X', 'Z', 0x00}),
			len(head) >= 262 && string(head[257:262]) == "ustar":
			return true
		}
	}
	return false
}
