package rules

import (
	"fmt"

	"github.com/dockopt/dockopt/analyzer"
)

// reportNamingContextFiles reports a finding whose fix makes the
// Dockerfile COPY context files by name; what says which ("the file the
// fix writes", "the manifests the fix copies"). Behind a .dockerignore
// dockopt could not read, the builder may leave them out and the COPY
// would fail, so the fix is withheld with the reason.
func reportNamingContextFiles(p *analyzer.Pass, in *analyzer.Instruction, message string, fix *analyzer.Fix, what string) {
	if fix != nil && p.Context.IgnoreUnread() {
		p.ReportWithheld(in, message+" (no fix: "+p.Context.UnreadDockerIgnore+
			" could not be read, so whether the builder would see "+what+" is not known)", analyzer.PreconditionContext)
		return
	}
	p.Report(in, message, fix)
}

// reportCheckedAgainstListing reports a finding whose fix writes
// .dockerignore lines chosen against every file of the context. When the
// listing stopped at analyzer.MaxContextFiles, a line could exclude a file
// the build needs that was never listed, so the fix is withheld with the
// reason.
func reportCheckedAgainstListing(p *analyzer.Pass, in *analyzer.Instruction, message string, fix *analyzer.Fix) {
	if fix != nil && p.Context != nil && p.Context.Truncated {
		p.ReportWithheld(in, fmt.Sprintf("%s (no fix: the build context has more than %d files and dockopt lists no more, so it cannot check that the lines exclude nothing the build needs)",
			message, analyzer.MaxContextFiles), analyzer.PreconditionContext)
		return
	}
	p.Report(in, message, fix)
}
