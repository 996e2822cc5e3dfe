package rules

import (
	"strings"

	"github.com/dockopt/dockopt/analyzer"
)

// NginxMissingSecurityHeaders finds nginx sites without the basic
// browser security headers.
var NginxMissingSecurityHeaders = &analyzer.Rule{
	ID:       "nginx-missing-security-headers",
	Category: analyzer.CategorySecurity,
	Severity: analyzer.SeverityWarning,
	Title:    "nginx serves the site without basic security headers",
	Rationale: `Three response headers close common browser attacks at no cost: X-Content-Type-Options: nosniff ` +
		`stops a browser from running an uploaded or mistyped file as script, X-Frame-Options (or a CSP ` +
		`frame-ancestors) stops the site from being framed for clickjacking, and Referrer-Policy keeps URLs, ` +
		`tokens in query strings included, from leaking to other sites. nginx sends none of them unless ` +
		`configured; the stock configuration of the nginx image counts as missing.`,
	Bad:  "FROM nginx:1.29-alpine\nCOPY dist /usr/share/nginx/html\n",
	Good: "FROM nginx:1.29-alpine\nCOPY nginx/dockopt.conf /etc/nginx/conf.d/dockopt.conf\nCOPY dist /usr/share/nginx/html\n",
	Fix:  analyzer.Review,
	Check: func(p *analyzer.Pass) {
		site, ok := nginxSiteOf(p)
		if !ok {
			return
		}
		missing := nginxHeadersMissing(site.config)
		if len(missing) == 0 {
			return
		}
		if reportUnknownStock(p, site, "sends no security headers", missing) {
			return
		}
		if site.stock {
			msg, fix := "the image does not replace nginx's stock configuration, which sends no security headers; add to its http block: "+strings.Join(missing, " "), nginxFix(p, site)
			if why := nginxFixWithheld(p, site); fix == nil && why != "" {
				msg += " (no fix: " + why + ")"
			}
			reportNamingContextFiles(p, site.at, msg, fix, "the file the fix writes")
			return
		}
		p.Report(site.at, "the nginx configuration does not send "+headerNames(missing)+"; add to the server block: "+strings.Join(missing, " "), nil)
	},
}

func headerNames(directives []string) string {
	var names []string
	for _, d := range directives {
		if f := strings.Fields(d); len(f) > 1 {
			names = append(names, f[1])
		}
	}
	return strings.Join(names, ", ")
}
