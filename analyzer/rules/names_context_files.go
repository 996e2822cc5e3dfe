package rules

import "github.com/dockopt/dockopt/analyzer"

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
