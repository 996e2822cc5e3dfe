package rules

import "github.com/dockopt/dockopt/analyzer"

// buildkitRules mirror the checks of `docker build --check`. SecretsUsedInArgOrEnv
// and CopyIgnoredFile live with the production-theme rules.
var buildkitRules = []*analyzer.Rule{
	StageNameCasing,
	FromAsCasing,
	EmptyContinuationLine,
	InstructionCasing,
	DuplicateStageName,
	ReservedStageName,
	MaintainerDeprecated,
	OverriddenInstruction,
	LegacyKeyValueFormat,
	WorkdirRelativePath,
	ExecFormCmd,
	UndefinedArgInFrom,
	InvalidDefaultArgInFrom,
	ConstantFromPlatform,
	RedundantTargetPlatform,
	UndefinedVariable,
	ExposeProtoCasing,
	ExposeHostMapping,
	BaseImagePlatformMismatch,
	DefinitionDescriptionFormat,
}
