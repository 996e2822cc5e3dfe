package imagedata

import (
	"strings"
	"testing"
	"time"

	"github.com/dockopt/dockopt/analyzer"
)

// The end-of-life comparisons have a date of their own: the sizes were
// measured around 2026-11, and the end-of-life rows that passed during
// November (PostgreSQL 14, .NET 8 and 9) were checked against their
// projects' pages to move that date to 2026-12-01.
func TestAsOf(t *testing.T) {
	if got := AsOf(); got != "2026-11" {
		t.Errorf("AsOf() = %q, want 2026-11", got)
	}
	if got := EOLAsOf(); got != "2026-12" {
		t.Errorf("EOLAsOf() = %q, want 2026-12", got)
	}
	if got := AsOfDate().Format(time.DateOnly); got != "2026-12-01" {
		t.Errorf("AsOfDate() = %s, want 2026-12-01", got)
	}
}

// A line's end date is the day its fixes stop: it has ended on that day.
func TestEnded(t *testing.T) {
	asOf := mustDate("2026-12-01")
	for eol, want := range map[string]bool{
		"2026-11-30": true,
		"2026-12-01": true,
		"2026-12-02": false,
	} {
		if got := ended(mustDate(eol), asOf); got != want {
			t.Errorf("ended(%s, 2026-12-01) = %v, want %v", eol, got, want)
		}
	}
}

func TestEOL(t *testing.T) {
	cases := []struct {
		ref   string
		date  string // "" when unknown
		ended bool
	}{
		{"node:18", "2025-04-30", true},
		{"node:20-alpine", "2026-04-30", true},
		{"node:20.11.1-bookworm-slim", "2026-04-30", true},
		{"node:22", "2027-04-30", false},
		{"node:lts", "", false},
		{"node:latest", "", false},
		{"node", "", false},
		{"python:3.8-slim", "2024-10-07", true},
		{"python:3.10", "2026-10-31", true},
		{"python:3.12.4", "2028-10-31", false},
		{"python:3.11-buster", "2024-06-30", true}, // Debian 10 ends before Python 3.11
		{"python:3.12-alpine3.18", "2025-05-09", true},
		{"python:3.13.0rc2", "", false},
		{"golang:1.22-alpine", "2025-02-11", true},
		{"golang:1.26", "2027-02-09", false},
		{"debian:buster-slim", "2024-06-30", true},
		{"debian:bullseye-20240110", "2026-08-31", true},
		{"debian:12.5", "2028-06-30", false},
		{"ubuntu:18.04", "2023-05-31", true},
		{"ubuntu:jammy-20240111", "2027-04-30", false},
		{"alpine:3.16", "2024-05-23", true},
		{"alpine:3.22.1", "2027-05-01", false},
		{"openjdk:11-jre-slim", "2022-07-31", true},
		{"openjdk:8u342-jdk", "2022-07-31", true},
		{"openjdk:26-ea-slim", "", false},
		{"eclipse-temurin:21-jre", "2029-12-31", false},
		// Adoptium extended Temurin 8 to at least December 2030 (it was
		// November 2026); 11 and 17 stay at least until October 2027.
		{"eclipse-temurin:8-jre", "2030-12-31", false},
		{"eclipse-temurin:8u472-b08-jdk", "2030-12-31", false},
		{"eclipse-temurin:11-jre", "2027-10-31", false},
		{"eclipse-temurin:17-jdk", "2027-10-31", false},
		{"ruby:2.7", "2023-03-31", true},
		{"php:8.1-fpm", "2025-12-31", true},
		{"nginx:1.24", "2024-04-23", true},
		{"nginx:latest", "", false},
		// PostgreSQL 14's last release was due on 2026-11-12.
		{"postgres:14", "2026-11-12", true},
		{"postgres:15-alpine", "2027-11-11", false},
		{"postgres:12-alpine", "2024-11-21", true},
		{"centos:7", "2024-06-30", true},
		{"centos:centos8", "2021-12-31", true},
		{"quay.io/centos/centos:stream9", "2027-05-31", false},
		{"bitnami/python:3.8", "", false},
		{"mcr.microsoft.com/dotnet/aspnet:7.0", "2024-05-14", true},
		{"mcr.microsoft.com/dotnet/sdk:7.0.410-bookworm-slim", "2024-05-14", true},
		{"mcr.microsoft.com/dotnet/runtime:6.0-alpine3.19", "2024-11-12", true},
		{"mcr.microsoft.com/dotnet/core/aspnet:3.1-bionic", "2022-12-13", true},
		// .NET 8 (LTS) and 9 (STS) both ended on 2026-11-10, before the
		// end-of-life as-of date.
		{"mcr.microsoft.com/dotnet/aspnet:8.0", "2026-11-10", true},
		{"mcr.microsoft.com/dotnet/runtime-deps:9.0-noble-chiseled", "2026-11-10", true},
		{"mcr.microsoft.com/dotnet/aspnet:10.0", "2028-11-14", false},
		{"mcr.microsoft.com/dotnet/aspnet:latest", "", false},
		{"mcr.microsoft.com/dotnet/framework/aspnet:4.8", "", false},
		{"mcr.microsoft.com/mssql/server:2022-latest", "", false},
	}
	for _, c := range cases {
		ref := analyzer.ParseImageRef(c.ref)
		date, known := EOL(ref)
		if c.date == "" {
			if known {
				t.Errorf("EOL(%s) = %s, want unknown", c.ref, date.Format(time.DateOnly))
			}
			continue
		}
		if !known || date.Format(time.DateOnly) != c.date {
			t.Errorf("EOL(%s) = %s, %v; want %s", c.ref, date.Format(time.DateOnly), known, c.date)
			continue
		}
		ended := false
		for _, lc := range Lookup(ref) {
			ended = ended || lc.Ended
		}
		if ended != c.ended {
			t.Errorf("Lookup(%s): ended = %v, want %v", c.ref, ended, c.ended)
		}
	}
}

func TestLookupOldestSupported(t *testing.T) {
	cases := map[string]string{
		"node:18":       "22",
		"python:3.9":    "3.11",
		"golang:1.22":   "1.26",
		"debian:buster": "12",
		"alpine:3.16":   "3.22", // 3.21 ended on 2026-11-01
		"ruby:2.7":      "3.3",
		"postgres:12":   "15", // 14 ended on 2026-11-12
		"php:7.4":       "8.2",
		"openjdk:17":    "",
		// 8.0 and 9.0 ended on 2026-11-10.
		"mcr.microsoft.com/dotnet/sdk:7.0": "10.0",
	}
	for ref, want := range cases {
		lcs := Lookup(analyzer.ParseImageRef(ref))
		if len(lcs) == 0 {
			t.Errorf("Lookup(%s) found nothing", ref)
			continue
		}
		if got := lcs[0].OldestSupported; got != want {
			t.Errorf("Lookup(%s).OldestSupported = %q, want %q", ref, got, want)
		}
		if lcs[0].Source == "" {
			t.Errorf("Lookup(%s) has no source", ref)
		}
	}
	if lcs := Lookup(analyzer.ParseImageRef("openjdk:17")); lcs[0].Replacement != "eclipse-temurin" {
		t.Errorf("openjdk replacement = %q", lcs[0].Replacement)
	}
}

func TestSlimAlternative(t *testing.T) {
	cases := []struct{ ref, want string }{
		{"python:3.12", "python:3.12-slim"},
		{"python:3.12-bookworm", "python:3.12-slim-bookworm"},
		{"python", "python:slim"},
		{"python:latest", "python:slim"},
		{"python:3.12-slim", ""},
		{"python:3.12-alpine", ""},
		{"node:20", "node:20-slim"},
		{"node:20-bookworm", "node:20-bookworm-slim"},
		{"node:lts", "node:lts-slim"},
		{"node:20-alpine", ""},
		{"golang:1.25", "gcr.io/distroless/static-debian12"},
		{"golang:1.25-alpine", ""},
		{"openjdk:17", "eclipse-temurin:17-jre"},
		{"openjdk:11-jdk-slim", "eclipse-temurin:11-jre"},
		{"openjdk:8u342-jdk", "eclipse-temurin:8-jre"},
		{"eclipse-temurin:21", "eclipse-temurin:21-jre"},
		{"eclipse-temurin:21-jdk-jammy", "eclipse-temurin:21-jre-jammy"},
		{"eclipse-temurin:21-jre", ""},
		{"ruby:3.3", "ruby:3.3-slim"},
		{"php:8.3-fpm", "php:8.3-fpm-alpine"},
		{"php:8.3-apache", ""},
		{"debian:bookworm", "debian:bookworm-slim"},
		{"debian:12", "debian:12-slim"},
		{"debian:bookworm-slim", ""},
		{"nginx:latest", "nginx:alpine"},
		{"nginx:1.27", "nginx:1.27-alpine"},
		{"postgres:16", "postgres:16-alpine"},
		{"ubuntu:24.04", ""},
		{"alpine:3.20", ""},
		{"registry.example.com/python:3.12", ""},
		{"gcr.io/distroless/static-debian12", ""},
		// Tags that do not exist are never suggested, and words of a tag the
		// tables do not read are never dropped.
		{"debian", ""},
		{"debian:latest", ""},
		{"debian:stable", "debian:stable-slim"},
		{"debian:bookworm-20240110", ""},
		{"debian:bookworm-backports", ""},
		{"nginx:1.27-perl", ""},
		{"eclipse-temurin:21-ubi9-minimal", ""},
		{"node:20-bookworm-20240110", ""},
	}
	for _, c := range cases {
		got, ok := SlimAlternative(analyzer.ParseImageRef(c.ref))
		if got != c.want || ok != (c.want != "") {
			t.Errorf("SlimAlternative(%s) = %q, %v; want %q", c.ref, got, ok, c.want)
		}
	}
	if alts := Alternatives(analyzer.ParseImageRef("node:20")); len(alts) != 2 || alts[1] != "node:20-alpine" {
		t.Errorf("Alternatives(node:20) = %v", alts)
	}
}

func TestCompressedSizeMB(t *testing.T) {
	cases := []struct {
		ref string
		mb  float64
	}{
		{"python:3.12", 385},
		{"python:3.12-slim", 44},
		{"python:3.11-alpine3.20", 20},
		{"node:20", 390},
		{"node:20-slim", 72},
		{"node:20-alpine", 48},
		{"openjdk:17-jdk-slim", 200},
		{"eclipse-temurin:21-jre", 95},
		{"gcr.io/distroless/static-debian12", 1},
		{"gcr.io/distroless/static-debian12:nonroot", 1},
		{"nginx:latest", 72},
		{"golang:1.25-bookworm", 300},
		{"golang:1.25-slim", 0}, // no such figure
		{"example.com/app:1", 0},
	}
	for _, c := range cases {
		mb, basis, ok := CompressedSizeMB(analyzer.ParseImageRef(c.ref))
		if c.mb == 0 {
			if ok {
				t.Errorf("CompressedSizeMB(%s) = %v, want unknown", c.ref, mb)
			}
			continue
		}
		if !ok || mb != c.mb {
			t.Errorf("CompressedSizeMB(%s) = %v, %v; want %v", c.ref, mb, ok, c.mb)
		}
		if basis == "" || !strings.Contains(basis, "approximate") || !strings.Contains(basis, "2026-11") {
			t.Errorf("CompressedSizeMB(%s) basis %q does not say how the figure was made", c.ref, basis)
		}
	}
}

// TestEveryAlternativeHasASize keeps the tables consistent: an estimate of
// what switching saves needs both figures.
func TestEveryAlternativeHasASize(t *testing.T) {
	for _, ref := range []string{"python:3.12", "node:22", "golang:1.25", "openjdk:17", "eclipse-temurin:21", "ruby:3.3", "debian:12", "nginx:1.29", "postgres:17"} {
		r := analyzer.ParseImageRef(ref)
		alt, ok := SlimAlternative(r)
		if !ok {
			t.Errorf("%s: no alternative", ref)
			continue
		}
		full, _, ok1 := CompressedSizeMB(r)
		slim, _, ok2 := CompressedSizeMB(analyzer.ParseImageRef(alt))
		if !ok1 || !ok2 || slim >= full {
			t.Errorf("%s → %s: sizes %v (%v) → %v (%v)", ref, alt, full, ok1, slim, ok2)
		}
	}
}

// Tags as their publishers push them (Docker Hub, as of the tables' date),
// and look-alikes that do not exist.
func TestTagExists(t *testing.T) {
	exists := []string{
		"debian:bookworm-slim", "debian:12-slim", "debian:12.8-slim", "debian:stable-slim", "debian:trixie", "debian:bookworm-20240110-slim",
		"python:3.12-slim", "python:3.12-slim-bookworm", "python:slim", "python:3-alpine", "python:3.12.4-alpine3.20", "python:alpine",
		"node:20-slim", "node:20-bookworm-slim", "node:lts-slim", "node:slim", "node:20-alpine", "node:iron-alpine", "node:22.11.0-bookworm-slim",
		"ruby:3.3-slim-bookworm", "php:8.3-fpm-alpine", "php:fpm-alpine", "php:8.3-alpine3.20", "php:alpine",
		"nginx:1.27-alpine", "nginx:alpine", "nginx:stable-alpine", "nginx:1.27-alpine-perl",
		"nginxinc/nginx-unprivileged:1.27-alpine", "postgres:16-alpine", "postgres:alpine", "postgres:16.4-alpine3.20",
		"eclipse-temurin:21-jre", "eclipse-temurin:21-jre-jammy", "eclipse-temurin:17-jre-alpine", "eclipse-temurin:21.0.4_7-jre",
		"gcr.io/distroless/static-debian12", "registry.example.com/team/anything:whatever",
	}
	missing := []string{
		"debian:slim", "debian:slim-bookworm", "debian:12-bookworm-slim",
		"python:3.12-bookworm-slim", "python:slim-3.12", "node:20-slim-bookworm", "node:slim-20",
		"eclipse-temurin:jre", "eclipse-temurin:21-jre-slim", "postgres:16-slim", "nginx:1.27-slim",
	}
	for _, ref := range exists {
		if !TagExists(ref) {
			t.Errorf("TagExists(%s) = false, want true", ref)
		}
	}
	for _, ref := range missing {
		if TagExists(ref) {
			t.Errorf("TagExists(%s) = true, want false", ref)
		}
	}
}
