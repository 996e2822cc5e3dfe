package rules

import "github.com/dockopt/dockopt/analyzer"

var themeRulesB = []*analyzer.Rule{}
