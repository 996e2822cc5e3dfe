package rewrite

import (
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/dockopt/dockopt/analyzer"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
)

// nginxConf is the server configuration of a rewritten static site.
//
// Cache headers come from a map rather than from add_header inside
// locations: nginx drops every inherited add_header in a location that
// sets its own, which would silently remove the security headers from
// exactly the files served most.
func nginxConf(port int, spa bool, assets string) string {
	var b strings.Builder
	b.WriteString("# Written by dockopt for the static site's runtime image.\n")
	b.WriteString("# Hashed file names change whenever their content does, so those files can\n")
	b.WriteString("# be cached for a year; everything else is revalidated on each visit.\n")
	b.WriteString("map $uri $static_cache_control {\n")
	b.WriteString("    default \"no-cache\";\n")
	if assets != "" {
		fmt.Fprintf(&b, "    ~^%s \"public, max-age=31536000, immutable\";\n", assets)
	}
	b.WriteString("    \"~*[.-][0-9a-f]{8,}\\.(?:js|mjs|css|woff2?|ttf|png|jpe?g|gif|svg|webp|avif|ico)$\" \"public, max-age=31536000, immutable\";\n")
	b.WriteString("}\n\n")
	b.WriteString("server {\n")
	b.WriteString("    # IPv4 only: an IPv6 listen here would stop nginx from starting\n")
	b.WriteString("    # where the container has no IPv6.\n")
	fmt.Fprintf(&b, "    listen %d;\n", port)
	b.WriteString("    server_name _;\n")
	b.WriteString("    root /usr/share/nginx/html;\n")
	b.WriteString("    index index.html;\n")
	b.WriteString("    server_tokens off;\n")
	b.WriteString("    # Redirects keep the scheme, host and port the client used, which\n")
	b.WriteString("    # differ from nginx's own behind a port mapping or a proxy.\n")
	b.WriteString("    absolute_redirect off;\n\n")
	b.WriteString("    gzip on;\n")
	b.WriteString("    gzip_vary on;\n")
	b.WriteString("    gzip_proxied any;\n")
	b.WriteString("    gzip_comp_level 6;\n")
	b.WriteString("    gzip_min_length 1024;\n")
	// One line: linters (dockopt's nginx rule among them) read directives line by line.
	b.WriteString("    gzip_types text/plain text/css text/xml text/javascript application/javascript application/json application/xml application/rss+xml application/manifest+json image/svg+xml font/ttf font/otf;\n\n")
	b.WriteString("    add_header X-Content-Type-Options \"nosniff\" always;\n")
	b.WriteString("    add_header X-Frame-Options \"SAMEORIGIN\" always;\n")
	b.WriteString("    add_header Referrer-Policy \"strict-origin-when-cross-origin\" always;\n")
	b.WriteString("    add_header Cache-Control $static_cache_control;\n\n")
	b.WriteString("    location = /healthz {\n")
	b.WriteString("        access_log off;\n")
	b.WriteString("        default_type text/plain;\n")
	b.WriteString("        return 200 \"ok\\n\";\n")
	b.WriteString("    }\n\n")
	b.WriteString("    location / {\n")
	if spa {
		b.WriteString("        # The app routes in the browser: unknown paths get index.html.\n")
		b.WriteString("        try_files $uri $uri/ /index.html;\n")
	} else {
		b.WriteString("        try_files $uri $uri/ $uri.html =404;\n")
	}
	b.WriteString("    }\n")
	b.WriteString("}\n")
	return b.String()
}

// envSecrets keep local .env files, which hold credentials, out of a
// service's context, as dockopt's own .dockerignore template does; the
// example file stays.
var envSecrets = []string{".env", ".env.*", "!.env.example"}

// envLocalSecrets are the .env files only a developer's machine holds:
// all a .dockerignore may take from an app that loads its .env itself.
var envLocalSecrets = []string{".env.local", ".env.*.local"}

// envSecretsFor is envSecrets unless the original copies or adds a .env
// file by name, which the build then needs, or the app loads .env files
// itself (dotenv, Symfony's Dotenv), as dockerignore-missing keeps them
// then.
func envSecretsFor(o *original) []string {
	if o.bc.LoadsDotEnv() {
		return envLocalSecrets
	}
	for _, in := range o.stage.Instructions {
		var sources []string
		switch c := in.Command.(type) {
		case *instructions.CopyCommand:
			sources = c.SourcePaths
		case *instructions.AddCommand:
			sources = c.SourcePaths
		}
		for _, src := range sources {
			if strings.HasPrefix(path.Base(src), ".env") {
				return nil
			}
		}
	}
	return envSecrets
}

// dockerignore returns the .dockerignore lines a rewrite relies on, as a
// file merged into the one the Dockerfile uses (or a new one), and
// re-includes any path in keep that an existing pattern would exclude.
// needed are patterns the new Dockerfile is correct only with (a local
// node_modules would overwrite the installed one); tidy are patterns that
// only keep the context and the image small, added only when no other
// Dockerfile shares the context, since every build of the context reads
// the file and another image may need what this one does not. It reports
// false when nothing needs adding.
func dockerignore(o *original, tidy, needed, keep []string) (analyzer.GeneratedFile, bool) {
	di := o.bc.DockerIgnore
	p := o.contextPath(".dockerignore")
	if di != nil {
		p = di.Path
	}
	want := needed
	if !o.sharedContext() {
		want = slices.Concat(needed, tidy)
	}
	var lines []string
	for _, w := range want {
		if !di.Has(w) {
			lines = append(lines, w)
		}
	}
	for _, n := range keep {
		if di.Excludes(n) || slices.ContainsFunc(lines, func(l string) bool { return ignoredBy(l, n) }) {
			// Said in the file itself: a line that undoes a maintainer's
			// own pattern needs its reason beside it.
			lines = append(lines, "# the build copies "+n+", which a pattern above excludes", "!"+n)
		}
	}
	if len(lines) == 0 {
		return analyzer.GeneratedFile{}, false
	}
	content := strings.Join(lines, "\n") + "\n"
	if di == nil {
		content = "# Keeps the build context small; written by dockopt with the multi-stage rewrite.\n" + content
	}
	return analyzer.GeneratedFile{Path: path.Clean(p), Content: content, Merge: "append-lines"}, true
}

// ignoredBy reports whether a pattern the rewrite adds excludes a path.
func ignoredBy(pattern, p string) bool {
	pattern = strings.TrimPrefix(pattern, "**/")
	if ok, _ := path.Match(pattern, p); ok {
		return true
	}
	for _, part := range strings.Split(p, "/") {
		if ok, _ := path.Match(pattern, part); ok {
			return true
		}
	}
	return false
}

// sharedContext reports another Dockerfile in the build context, which
// builds with the same .dockerignore.
func (o *original) sharedContext() bool {
	self := o.fr.Path
	if o.bc.Dir != "." {
		self = strings.TrimPrefix(self, o.bc.Dir+"/")
	}
	for _, f := range o.bc.Files {
		if f == self {
			continue
		}
		base := strings.ToLower(path.Base(f))
		if strings.HasSuffix(base, ".dockerignore") {
			continue
		}
		if base == "dockerfile" || base == "containerfile" || strings.HasPrefix(base, "dockerfile.") || strings.HasPrefix(base, "containerfile.") ||
			strings.HasSuffix(base, ".dockerfile") || strings.HasSuffix(base, ".containerfile") {
			return true
		}
	}
	return false
}
