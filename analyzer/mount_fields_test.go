package analyzer

import (
	"encoding/csv"
	"slices"
	"strings"
	"testing"
)

// csvFields is how BuildKit reads a --mount value, which mountFields must
// agree with.
func csvFields(v string) ([]string, bool) {
	fields, err := csv.NewReader(strings.NewReader(v)).Read()
	return fields, err == nil
}

func TestMountFieldsAgreeWithCSV(t *testing.T) {
	for _, v := range []string{
		"", "type=cache,target=/root/.cache", "type=secret,id=npm,target=/root/.npmrc",
		`type=bind,source="a,b",target=/x`, `type=cache,target=/a"b`, ",,", "a,", ",a",
		"type=cache,target=/x\nsecond", "type=cache\r\n", " type = cache , target=/x ",
	} {
		got, gotOK := mountFields(v)
		want, wantOK := csvFields(v)
		if gotOK != wantOK || !slices.Equal(got, want) {
			t.Errorf("mountFields(%q) = %q, %v; the CSV reader gives %q, %v", v, got, gotOK, want, wantOK)
		}
	}
}

func FuzzMountFields(f *testing.F) {
	f.Add("type=cache,target=/root/.cache,sharing=locked")
	f.Add(`source="a,b",target=/x`)
	f.Fuzz(func(t *testing.T, v string) {
		got, gotOK := mountFields(v)
		want, wantOK := csvFields(v)
		if gotOK != wantOK || (gotOK && !slices.Equal(got, want)) {
			t.Fatalf("mountFields(%q) = %q, %v; the CSV reader gives %q, %v", v, got, gotOK, want, wantOK)
		}
	})
}
