package rules

import "github.com/dockopt/dockopt/analyzer"

var hadolintRulesB = []*analyzer.Rule{
	ZypperNonInteractive,
	ZypperDistUpgrade,
	ZypperClean,
	ZypperPinVersions,
	DnfAssumeYes,
	DnfClean,
	DnfPinVersions,
	PipNoCacheDir,
	EnvSelfReference,
	CopyRelativeDestWithoutWorkdir,
	UseraddNoLogInit,
	WgetProgress,
	LabelKeyInvalid,
	LabelRequired,
	LabelNotInSchema,
	LabelEmpty,
	LabelNotURL,
	LabelNotRFC3339,
	LabelNotSPDX,
	LabelNotGitHash,
	LabelNotSemver,
	LabelNotEmail,
}
