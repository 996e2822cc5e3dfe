package rules

import "github.com/dockopt/dockopt/analyzer"

var hadolintRulesA = []*analyzer.Rule{
	AptNoInstallRecommends,
	AptGetAssumeYes,
	YumAssumeYes,
	ApkNoCache,
	AptListsNotRemoved,
	YumCleanAll,
	AptGetNotApt,
	CopyNotAdd,
	CopyMultiSourceDir,
	SingleHealthcheck,
	BaseImageTagged,
	BaseImageNotLatest,
	FromPlatformFlag,
	TrustedRegistry,
	CopyFromKnownStage,
	CopyFromOwnStage,
	ExposePortRange,
	LastUserNotRoot,
	NoSudo,
	WorkdirNotCd,
	IrrelevantCommands,
	AptPinVersions,
	ApkPinVersions,
	YumPinVersions,
	PipPinVersions,
	NpmPinVersions,
	GemPinVersions,
	AddToExtractArchive,
}
