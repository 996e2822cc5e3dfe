package rules

import (
	"strings"

	"github.com/dockopt/dockopt/analyzer"
)

// NginxNoGzip finds nginx sites served without compression.
var NginxNoGzip = &analyzer.Rule{
	ID:       "nginx-no-gzip",
	Category: analyzer.CategoryReliability,
	Severity: analyzer.SeverityWarning,
	Title:    "nginx serves static assets without gzip compression",
	Rationale: `nginx compresses nothing unless told to, and even with gzip on it only compresses text/html ` +
		`by default. JavaScript, CSS, JSON and SVG shrink to a quarter or less with gzip: without it every ` +
		`page load transfers several times the bytes, which users on slow links and the egress bill both ` +
		`feel. The stock configuration of the nginx image counts as missing.`,
	Bad:  "FROM nginx:1.29-alpine\nCOPY dist /usr/share/nginx/html\n",
	Good: "FROM nginx:1.29-alpine\nCOPY nginx/dockopt.conf /etc/nginx/conf.d/dockopt.conf\nCOPY dist /usr/share/nginx/html\n",
	Fix:  analyzer.Review,
	Check: func(p *analyzer.Pass) {
		site, ok := nginxSiteOf(p)
		if !ok {
			return
		}
		missing := nginxGzipMissing(site.config)
		if len(missing) == 0 {
			return
		}
		if reportUnknownStock(p, site, "compresses nothing", missing) {
			return
		}
		if site.stock {
			msg, fix := "the image does not replace nginx's stock configuration, which compresses nothing (its nginx.conf has gzip on commented out); add to its http block: "+strings.Join(missing, " "), nginxFix(p, site)
			if why := nginxFixWithheld(p, site); fix == nil && why != "" {
				msg += " (no fix: " + why + ")"
			}
			reportNamingContextFiles(p, site.at, msg, fix, "the file the fix writes")
			return
		}
		p.Report(site.at, "the nginx configuration does not compress CSS, JavaScript, JSON or SVG; add: "+strings.Join(missing, " "), nil)
	},
}
