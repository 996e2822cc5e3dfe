package analyzer

import (
	"encoding/csv"
	"path"
	"strings"
)

// Mount is one RUN --mount flag as written.
type Mount struct {
	// Type is lower case; BuildKit's default is "bind".
	Type string
	// Target is cleaned and absolute: a relative target is taken from /,
	// since the working directory may hold variables.
	Target string
	From   string
	Source string
	// Relative is set when the target was written relative: BuildKit
	// resolves it against the WORKDIR, which StageFacts.Mounts does when
	// the WORKDIR is known.
	Relative bool
	ID       string
	Sharing  string
	// ReadOnly is BuildKit's default for bind mounts unless rw is given.
	ReadOnly bool
}

// Mounts reads the instruction's --mount flags the way BuildKit splits
// them (comma-separated, CSV quoting, keys in any case). BuildKit's typed
// RUN only fills its mounts after variables are expanded, which an offline
// analysis never does; a flag that is not valid CSV is skipped, as BuildKit
// would refuse it.
func (in *Instruction) Mounts() []Mount {
	var out []Mount
	for _, f := range in.Flags {
		v, ok := strings.CutPrefix(f, "--mount=")
		if !ok {
			continue
		}
		fields, ok := mountFields(v)
		if !ok {
			continue
		}
		m := Mount{Type: "bind"}
		var readOnly *bool
		for _, field := range fields {
			k, val, hasVal := strings.Cut(field, "=")
			switch strings.ToLower(strings.TrimSpace(k)) {
			case "type":
				m.Type = strings.ToLower(val)
			case "target", "dst", "destination":
				if val != "" {
					m.Target = path.Clean("/" + val)
					m.Relative = !strings.HasPrefix(val, "/")
				}
			case "from":
				m.From = val
			case "source", "src":
				m.Source = val
			case "id":
				m.ID = val
			case "sharing":
				m.Sharing = val
			case "ro", "readonly":
				ro := !hasVal || val == "true"
				readOnly = &ro
			case "rw", "readwrite":
				ro := hasVal && val == "false"
				readOnly = &ro
			}
		}
		m.ReadOnly = m.Type == "bind"
		if readOnly != nil {
			m.ReadOnly = *readOnly
		}
		out = append(out, m)
	}
	return out
}

// CacheMountTargets returns the targets of the instruction's cache mounts.
func (in *Instruction) CacheMountTargets() []string {
	var out []string
	for _, m := range in.Mounts() {
		if m.Type == "cache" && m.Target != "" {
			out = append(out, m.Target)
		}
	}
	return out
}

// mountFields splits a --mount value as BuildKit does, with a CSV reader;
// a value without quotes or line breaks splits at its commas, which is what
// the reader would return, without the reader's 4 KiB buffer (rules ask for
// the mounts of every RUN many times). ok is false where the reader fails.
func mountFields(v string) (fields []string, ok bool) {
	if v == "" {
		return nil, false
	}
	if !strings.ContainsAny(v, "\"\r\n") {
		return strings.Split(v, ","), true
	}
	fields, err := csv.NewReader(strings.NewReader(v)).Read()
	return fields, err == nil
}
