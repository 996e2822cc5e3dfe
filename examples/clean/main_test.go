package main

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestHealthcheckReportsStatus(t *testing.T) {
	ok := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer ok.Close()
	if got := healthcheck(ok.URL); got != 0 {
		t.Errorf("healthy server: exit %d, want 0", got)
	}

	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "down", http.StatusServiceUnavailable)
	}))
	defer failing.Close()
	if got := healthcheck(failing.URL); got != 1 {
		t.Errorf("failing server: exit %d, want 1", got)
	}
}
