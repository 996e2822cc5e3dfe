package githubtest

import "testing"

func TestEveryOperationHasAHandler(t *testing.T) {
	sp, err := loadSpec()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, op := range sp.ops {
		seen[op.ID] = true
		if handlers[op.ID].fn == nil {
			t.Errorf("%s %s (%s) has no handler", op.Method, op.Template, op.ID)
		}
	}
	for id := range handlers {
		if !seen[id] {
			t.Errorf("handler for %s, which is not in the extract", id)
		}
	}
}

func TestRouteMatching(t *testing.T) {
	sp, err := loadSpec()
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct{ method, path, op, varName, varValue string }{
		{"GET", "/repos/o/r/git/ref/heads/dockopt/main", "git/get-ref", "ref", "heads/dockopt/main"},
		{"PATCH", "/repos/o/r/git/refs/heads/a%2Fb", "git/update-ref", "ref", "heads/a/b"},
		{"GET", "/repos/o/r/commits/heads/x/y/check-runs", "checks/list-for-ref", "ref", "heads/x/y"},
		{"DELETE", "/repos/o/r/pulls/comments/7", "pulls/delete-review-comment", "comment_id", "7"},
		{"POST", "/repos/o/r/pulls/3/comments", "pulls/create-review-comment", "pull_number", "3"},
		{"GET", "/repos/o/r/contents/a/b/Dockerfile", "repos/get-content", "path", "a/b/Dockerfile"},
		{"PATCH", "/repos/o/r/issues/comments/9", "issues/update-comment", "comment_id", "9"},
	}
	for _, tc := range cases {
		op, vars, _ := sp.match(tc.method, tc.path)
		if op == nil || op.ID != tc.op || vars[tc.varName] != tc.varValue {
			t.Errorf("%s %s → %v %v", tc.method, tc.path, op, vars)
		}
	}
	if op, _, known := sp.match("PUT", "/repos/o/r/pulls/1"); op != nil || !known {
		t.Errorf("PUT on a GET/PATCH route matched %v (known %v)", op, known)
	}
}
