package githubtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
)

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

type checkRunRequest struct {
	Name        *string
	HeadSHA     string  `json:"head_sha"`
	DetailsURL  *string `json:"details_url"`
	ExternalID  *string `json:"external_id"`
	Status      *string
	Conclusion  *string
	StartedAt   *time.Time `json:"started_at"`
	CompletedAt *time.Time `json:"completed_at"`
	Output      *struct {
		Title       *string
		Summary     string
		Text        *string
		Annotations []struct {
			Path            string
			StartLine       int    `json:"start_line"`
			EndLine         int    `json:"end_line"`
			StartColumn     int    `json:"start_column"`
			EndColumn       int    `json:"end_column"`
			AnnotationLevel string `json:"annotation_level"`
			Message, Title  string
			RawDetails      string `json:"raw_details"`
		}
	}
	Actions *[]Action
}

// checkRules are the Checks API rules that are in GitHub's documentation
// but not in its schema.
func checkRules(c *ctx, req *checkRunRequest, update bool) bool {
	if req.Output != nil {
		if update && req.Output.Title == nil {
			c.validationFailed(true, "CheckRun", "output.title", "missing_field", "output.title is required when output is given")
			return false
		}
		for i, a := range req.Output.Annotations {
			if a.StartLine > a.EndLine {
				c.validationFailed(true, "CheckRun", fmt.Sprintf("output.annotations[%d]", i), "invalid", "start_line must not be after end_line")
				return false
			}
			if (a.StartColumn != 0 || a.EndColumn != 0) && a.StartLine != a.EndLine {
				c.validationFailed(true, "CheckRun", fmt.Sprintf("output.annotations[%d]", i), "invalid", "start_column and end_column are only allowed when start_line equals end_line")
				return false
			}
		}
	}
	if req.CompletedAt != nil && req.Conclusion == nil && (req.Status == nil || *req.Status == "completed") && !update {
		c.validationFailed(true, "CheckRun", "conclusion", "missing_field", "conclusion is required when completed_at is given")
		return false
	}
	if !update && req.Status != nil && *req.Status == "completed" && req.Conclusion == nil {
		c.validationFailed(true, "CheckRun", "conclusion", "missing_field", "conclusion is required when status is completed")
		return false
	}
	return true
}

func (s *Server) applyCheckRun(cr *CheckRun, req *checkRunRequest) {
	now := s.Clock.Now()
	if req.Name != nil {
		cr.Name = *req.Name
	}
	if req.DetailsURL != nil {
		cr.DetailsURL = *req.DetailsURL
	}
	if req.ExternalID != nil {
		cr.ExternalID = *req.ExternalID
	}
	if req.StartedAt != nil {
		cr.StartedAt = *req.StartedAt
	}
	if req.Status != nil {
		cr.Status = *req.Status
	}
	if req.Conclusion != nil {
		// Giving a conclusion completes the run.
		cr.Conclusion, cr.Status = *req.Conclusion, "completed"
	}
	if req.CompletedAt != nil {
		cr.CompletedAt = *req.CompletedAt
	} else if cr.Status == "completed" && cr.CompletedAt.IsZero() {
		cr.CompletedAt = now
	}
	if o := req.Output; o != nil {
		if o.Title != nil {
			cr.Title = *o.Title
		}
		cr.Summary = o.Summary
		if o.Text != nil {
			cr.Text = *o.Text
		}
		// Annotations are appended across updates, never replaced.
		for _, a := range o.Annotations {
			cr.Annotations = append(cr.Annotations, Annotation{
				Path: a.Path, StartLine: a.StartLine, EndLine: a.EndLine, StartColumn: a.StartColumn, EndColumn: a.EndColumn,
				Level: a.AnnotationLevel, Message: a.Message, Title: a.Title, RawDetails: a.RawDetails,
			})
		}
	}
	if req.Actions != nil {
		cr.Actions = *req.Actions
	}
}

func createCheckRun(s *Server, c *ctx) {
	var req checkRunRequest
	c.decode(&req)
	r := c.repo
	if _, err := r.commitObject(plumbing.NewHash(req.HeadSHA)); !isSHA(req.HeadSHA) || err != nil {
		c.validationFailed(true, "CheckRun", "head_sha", "invalid", "No commit found for SHA: "+req.HeadSHA)
		return
	}
	if !checkRules(c, &req, false) {
		return
	}
	cr := &CheckRun{ID: s.newID(), HeadSHA: req.HeadSHA, Status: "queued", StartedAt: s.Clock.Now(), App: s.AppSlug}
	s.applyCheckRun(cr, &req)
	r.checkRuns = append(r.checkRuns, cr)
	c.json(http.StatusCreated, s.checkRunJSON(r, cr))
}

func (r *Repo) checkRun(id int64) *CheckRun {
	for _, cr := range r.checkRuns {
		if cr.ID == id {
			return cr
		}
	}
	return nil
}

func updateCheckRun(s *Server, c *ctx) {
	var req checkRunRequest
	c.decode(&req)
	r := c.repo
	cr := r.checkRun(c.intVar("check_run_id"))
	if cr == nil {
		c.errorJSON(http.StatusNotFound, "Not Found")
		return
	}
	if !checkRules(c, &req, true) {
		return
	}
	s.applyCheckRun(cr, &req)
	cr.Updates++
	c.json(http.StatusOK, s.checkRunJSON(r, cr))
}

func listCheckRuns(s *Server, c *ctx) {
	r := c.repo
	q := c.r.URL.Query()
	h, ok := r.resolve(c.vars["ref"])
	if !ok {
		c.errorJSON(http.StatusNotFound, "No commit found for SHA: "+c.vars["ref"])
		return
	}
	latest := q.Get("filter") != "all"
	var runs []*CheckRun
	for i := len(r.checkRuns) - 1; i >= 0; i-- {
		cr := r.checkRuns[i]
		if cr.HeadSHA != h.String() {
			continue
		}
		if n := q.Get("check_name"); n != "" && cr.Name != n {
			continue
		}
		if st := q.Get("status"); st != "" && cr.Status != st {
			continue
		}
		dup := false
		for _, o := range runs {
			dup = dup || o.Name == cr.Name
		}
		if latest && dup {
			continue
		}
		runs = append(runs, cr)
	}
	var out []any
	for _, cr := range runs {
		out = append(out, s.checkRunJSON(r, cr))
	}
	c.json(http.StatusOK, map[string]any{"total_count": len(out), "check_runs": paginate(c, out)})
}

func listAnnotations(s *Server, c *ctx) {
	r := c.repo
	cr := r.checkRun(c.intVar("check_run_id"))
	if cr == nil {
		c.errorJSON(http.StatusNotFound, "Not Found")
		return
	}
	var out []any
	for _, a := range cr.Annotations {
		m := map[string]any{
			"path": a.Path, "start_line": a.StartLine, "end_line": a.EndLine, "annotation_level": a.Level,
			"message": a.Message, "title": a.Title, "raw_details": a.RawDetails,
			"start_column": nil, "end_column": nil,
			"blob_href": s.URL() + fmt.Sprintf("/%s/blob/%s/%s", r.FullName(), cr.HeadSHA, a.Path),
		}
		if a.StartColumn != 0 {
			m["start_column"] = a.StartColumn
		}
		if a.EndColumn != 0 {
			m["end_column"] = a.EndColumn
		}
		out = append(out, m)
	}
	c.json(http.StatusOK, paginate(c, out))
}
