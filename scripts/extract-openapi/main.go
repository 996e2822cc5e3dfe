// Command extract-openapi copies from GitHub's REST description only the
// operations dockopt calls, together with every component they reference, so
// that app/githubtest can validate requests without the 13 MB original (and
// without ../shared, which a fresh clone does not have).
//
// Usage (from the module root):
//
//	go run ./scripts/extract-openapi \
//	    -in /work/shared/github/openapi/api.github.com.json \
//	    -out app/githubtest/data/openapi-subset.json
//
// Request and response "examples" are dropped: they are documentation, not
// rules, and they would triple the size of the extract.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"slices"
	"strings"
)

// operations is the list of operationIds the app calls. Keep it in step with
// the routes app/githubtest implements.
var operations = []string{
	"apps/create-installation-access-token",
	"apps/get-repo-installation",
	"apps/get-installation",
	"apps/list-repos-accessible-to-installation",
	"apps/create-from-manifest",
	"repos/get",
	"repos/get-content",
	"repos/get-collaborator-permission-level",
	"git/get-ref",
	"git/create-ref",
	"git/update-ref",
	"git/delete-ref",
	"git/get-commit",
	"git/get-tree",
	"git/create-blob",
	"git/create-tree",
	"git/create-commit",
	"pulls/list",
	"pulls/get",
	"pulls/create",
	"pulls/update",
	"pulls/list-files",
	"pulls/create-review",
	"pulls/list-review-comments",
	"pulls/create-review-comment",
	"pulls/create-reply-for-review-comment",
	"pulls/delete-review-comment",
	"issues/create-comment",
	"issues/update-comment",
	"issues/list-comments",
	"issues/add-labels",
	"reactions/create-for-issue-comment",
	"reactions/create-for-pull-request-review-comment",
	"checks/create",
	"checks/update",
	"checks/list-for-ref",
	"checks/list-annotations",
	"rate-limit/get",
}

func main() {
	in := flag.String("in", "/work/shared/github/openapi/api.github.com.json", "GitHub's OpenAPI description")
	out := flag.String("out", "app/githubtest/data/openapi-subset.json", "where to write the subset")
	flag.Parse()
	if err := run(*in, *out); err != nil {
		log.Fatal(err)
	}
}

func run(in, out string) error {
	raw, err := os.ReadFile(in)
	if err != nil {
		return err
	}
	var spec map[string]any
	if err := json.Unmarshal(raw, &spec); err != nil {
		return fmt.Errorf("%s: %w", in, err)
	}
	subset, err := extract(spec, operations)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", " ")
	if err := enc.Encode(subset); err != nil {
		return err
	}
	return os.WriteFile(out, buf.Bytes(), 0o644)
}

func extract(spec map[string]any, want []string) (map[string]any, error) {
	paths, _ := spec["paths"].(map[string]any)
	components, _ := spec["components"].(map[string]any)
	outPaths := map[string]any{}
	found := map[string]bool{}
	for path, item := range paths {
		methods, _ := item.(map[string]any)
		for method, v := range methods {
			op, ok := v.(map[string]any)
			if !ok {
				continue
			}
			id, _ := op["operationId"].(string)
			if !slices.Contains(want, id) {
				continue
			}
			found[id] = true
			m, _ := outPaths[path].(map[string]any)
			if m == nil {
				m = map[string]any{}
				outPaths[path] = m
			}
			m[method] = dropExamples(op)
		}
	}
	var missing []string
	for _, id := range want {
		if !found[id] {
			missing = append(missing, id)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("operations not in the description: %s", strings.Join(missing, ", "))
	}

	// Follow $refs to a fixed point: a component can reference others.
	outComponents := map[string]map[string]any{}
	queue := collectRefs(outPaths, nil)
	for len(queue) > 0 {
		ref := queue[0]
		queue = queue[1:]
		kind, name, err := splitRef(ref)
		if err != nil {
			return nil, err
		}
		if outComponents[kind][name] != nil {
			continue
		}
		group, _ := components[kind].(map[string]any)
		c, ok := group[name]
		if !ok {
			return nil, fmt.Errorf("dangling reference %s", ref)
		}
		c = dropExamples(c)
		if outComponents[kind] == nil {
			outComponents[kind] = map[string]any{}
		}
		outComponents[kind][name] = c
		queue = collectRefs(c, queue)
	}
	return map[string]any{
		"openapi":    spec["openapi"],
		"info":       spec["info"],
		"x-extract":  "Subset of @octokit/openapi's api.github.com.json (MIT): the operations dockopt calls and the components they reference; examples removed. Regenerate with go run ./scripts/extract-openapi.",
		"paths":      outPaths,
		"components": outComponents,
	}, nil
}

func splitRef(ref string) (kind, name string, err error) {
	rest, ok := strings.CutPrefix(ref, "#/components/")
	if !ok {
		return "", "", fmt.Errorf("unsupported reference %q", ref)
	}
	kind, name, ok = strings.Cut(rest, "/")
	if !ok || kind == "examples" {
		return "", "", fmt.Errorf("unsupported reference %q", ref)
	}
	return kind, name, nil
}

func collectRefs(v any, acc []string) []string {
	switch v := v.(type) {
	case map[string]any:
		if r, ok := v["$ref"].(string); ok {
			acc = append(acc, r)
		}
		for _, x := range v {
			acc = collectRefs(x, acc)
		}
	case []any:
		for _, x := range v {
			acc = collectRefs(x, acc)
		}
	}
	return acc
}

// dropExamples returns a copy of v without "examples" maps of media types
// (which reference #/components/examples) and without "example" values. The
// keys of a "properties" map are property names, never keywords, so a
// property that happens to be called "example" is kept.
func dropExamples(v any) any { return dropIn(v, false) }

func dropIn(v any, propertyNames bool) any {
	switch v := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(v))
		for k, x := range v {
			if !propertyNames && (k == "examples" || k == "example") {
				continue
			}
			m[k] = dropIn(x, !propertyNames && k == "properties")
		}
		return m
	case []any:
		s := make([]any, len(v))
		for i, x := range v {
			s[i] = dropIn(x, false)
		}
		return s
	}
	return v
}
