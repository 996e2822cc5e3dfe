package rules

import "github.com/dockopt/dockopt/analyzer"

var themeRulesA = []*analyzer.Rule{}
