package rules

import "github.com/dockopt/dockopt/analyzer"

// themeRulesB are production rules no linter covers: secrets, npm,
// nginx configuration, Python runtime settings and base-image choice.
var themeRulesB = []*analyzer.Rule{
	NpmCIWithoutLockfile,
	NpmInstallWithLockfile,
	NpmProductionFlag,
	PythonEnvMissing,
	PathUserBinLast,
	FullBaseImage,
	EOLBaseImage,
	CurlPipeShell,
	SecretsInArgEnv,
	ChownAfterCopy,
	InlineConfigFile,
	NginxNoGzip,
	NginxMissingSecurityHeaders,
}
