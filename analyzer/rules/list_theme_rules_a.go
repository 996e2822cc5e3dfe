package rules

import "github.com/dockopt/dockopt/analyzer"

// themeRulesA are production rules no linter covers: what the final
// image contains, what the build context sends, who the process runs as,
// and how layers and failures are handled.
var themeRulesA = []*analyzer.Rule{
	MaskedErrors,
	UserLoginShell,
	DestructiveCleanup,
	CleanupInLaterLayer,
	FinalUserRoot,
	InitProcessMissing,
	StaticSiteNodeServer,
	BuildToolchainInFinalImage,
	CopyIgnoredFile,
	DepsCopiedAfterSource,
	DockerignoreMissing,
	DockerignoreIncomplete,
	PackageCacheMountMissing,
}
