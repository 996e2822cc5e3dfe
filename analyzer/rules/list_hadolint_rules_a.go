package rules

import "github.com/dockopt/dockopt/analyzer"

var hadolintRulesA = []*analyzer.Rule{
	AptNoInstallRecommends,
}
