package rules

import (
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/dockopt/dockopt/analyzer"
)

// DestructiveCleanup finds whole-filesystem deletions in the final image.
var DestructiveCleanup = &analyzer.Rule{
	ID:       "destructive-cleanup",
	Category: analyzer.CategoryReliability,
	Severity: analyzer.SeverityWarning,
	Title:    "Cleanup deletes system folders or walks the whole filesystem",
	Rationale: `Squeezing an image by deleting from system folders (rm -rf /usr/share/*, /usr/lib/*, /var/lib/*) ` +
		`or by running find / … -delete removes files the package manager, the language runtime or the ` +
		`application still need: the image builds and then fails at run time, or on the next package install, ` +
		`in ways that are slow to trace back. find / also walks /proc, /sys and mounted volumes unless told ` +
		`not to. Delete what you created (caches, build folders, /tmp), remove packages with the package ` +
		`manager, or copy only what is needed into a smaller final stage. Removing *.pyc files or ` +
		`/var/lib/apt/lists, /var/cache and /tmp contents is not reported.`,
	Bad:       "RUN find / -type f -name '*.md' -delete && rm -rf /usr/share/*\n",
	Good:      "RUN rm -rf /var/lib/apt/lists/* /tmp/*\n",
	POSIXOnly: true,
	Check: func(p *analyzer.Pass) {
		chain := p.File.FinalStage().Lineage()
		for in := range p.File.Each("RUN") {
			if in.Script == nil || !slices.Contains(chain, in.Stage) {
				continue
			}
			for _, c := range in.Script.Commands() {
				switch c.Name {
				case "rm":
					for _, a := range c.Positional() {
						if a.Dynamic {
							continue
						}
						if sys, ok := systemFolder(a.Value); ok {
							p.Report(in, fmt.Sprintf("rm %s deletes the system folder %s in the final image: the runtime, the package manager or the app may need what is in it; remove packages with the package manager or copy only what is needed into a clean final stage", a.Value, sys), nil)
						}
					}
				case "find":
					if msg := findDeletes(c); msg != "" {
						p.Report(in, msg, nil)
					}
				}
			}
		}
	},
}

// systemRoots are folders whose whole content belongs to the OS or its
// packages.
var systemRoots = []string{"/", "/usr", "/usr/share", "/usr/lib", "/usr/lib64", "/usr/local", "/usr/local/lib",
	"/usr/bin", "/usr/sbin", "/usr/libexec", "/usr/include", "/lib", "/lib64", "/bin", "/sbin", "/etc", "/var", "/var/lib",
	"/opt", "/root", "/home", "/srv"}

// systemFolder reports an rm target that is a system folder itself or all
// of its content (`/usr/lib/*`).
func systemFolder(target string) (string, bool) {
	t := strings.TrimSuffix(target, "/")
	t = strings.TrimSuffix(t, "/*")
	t = strings.TrimSuffix(t, "/.*")
	if t == "" {
		t = "/"
	}
	if !strings.HasPrefix(t, "/") || strings.ContainsAny(t, "*?[") {
		return "", false
	}
	t = path.Clean(t)
	for _, r := range systemRoots {
		if t == r {
			return r, true
		}
	}
	if t == "/var/lib/dpkg" || t == "/var/lib/rpm" || t == "/lib/apk" || t == "/etc/apk" || t == "/etc/apt" {
		return t, true
	}
	return "", false
}

// findDeletes explains a find that deletes across the whole filesystem.
func findDeletes(c analyzer.Command) string {
	if len(c.Args) == 0 {
		return ""
	}
	var roots []string
	for _, a := range c.Args {
		if strings.HasPrefix(a.Value, "-") || a.Value == "(" || a.Value == "!" {
			break
		}
		roots = append(roots, a.Value)
	}
	wide := ""
	for _, r := range roots {
		if sys, ok := systemFolder(r); ok && (sys == "/" || sys == "/usr" || sys == "/usr/lib" || sys == "/usr/share" || sys == "/lib" || sys == "/etc" || sys == "/var") {
			wide = r
			break
		}
	}
	if wide == "" {
		return ""
	}
	deletes := c.Has("-delete")
	for i, a := range c.Args {
		if (a.Value == "-exec" || a.Value == "-execdir") && i+1 < len(c.Args) {
			n := path.Base(c.Args[i+1].Value)
			deletes = deletes || n == "rm" || n == "unlink" || n == "shred"
		}
	}
	if !deletes {
		return ""
	}
	// Byte-code caches are safe to sweep anywhere; a -path inside a
	// folder of one's own is narrow enough.
	hasFilter, narrow := false, false
	for i, a := range c.Args {
		switch a.Value {
		case "-name", "-iname", "-path", "-ipath", "-wholename", "-regex", "-iregex":
			hasFilter = true
			if i+1 >= len(c.Args) {
				continue
			}
			v := c.Args[i+1].Value
			switch v {
			case "*.pyc", "*.pyo", "__pycache__", "*.py[co]", "*/__pycache__", "*/__pycache__/*":
				narrow = true
			}
			if a.Value != "-name" && a.Value != "-iname" && strings.HasPrefix(v, "/") {
				dir := v
				if i := strings.IndexAny(dir, "*?["); i >= 0 {
					dir = dir[:i]
				}
				if _, sys := systemFolder(path.Dir(dir + "x")); !sys && path.Clean(dir) != "/" {
					narrow = true
				}
			}
		}
	}
	switch {
	case narrow:
		return ""
	case !hasFilter:
		return fmt.Sprintf("find %s deletes everything it matches across the filesystem in the final image; restrict it to the folders you created", wide)
	case wide == "/" && !c.Has("-xdev", "-mount"):
		return "find / … deletes across every mounted filesystem (/proc, /sys, volumes) and every package's files in the final image; add -xdev and restrict it with -path to folders you created"
	}
	return ""
}
