package rules

import "github.com/dockopt/dockopt/analyzer"

var buildkitRules = []*analyzer.Rule{}
