package rules

import "github.com/dockopt/dockopt/analyzer"

// reportWritingContext reports a finding whose fix writes a new file into
// the build context for the Dockerfile to COPY. Behind a .dockerignore
// dockopt could not read, the builder may leave that file out and the COPY
// would fail, so the fix is withheld with the reason.
func reportWritingContext(p *analyzer.Pass, in *analyzer.Instruction, message string, fix *analyzer.Fix) {
	if fix != nil && p.Context.IgnoreUnread() {
		p.ReportWithheld(in, message+" (no fix: "+p.Context.UnreadDockerIgnore+
			" could not be read, so whether the builder would see the file the fix writes is not known)", analyzer.PreconditionContext)
		return
	}
	p.Report(in, message, fix)
}
