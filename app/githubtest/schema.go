package githubtest

import (
	"encoding/json"
	"fmt"
	"math/big"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode/utf8"
)

// This file is a small JSON-schema validator, written by hand on purpose: it
// covers exactly the OpenAPI 3.0 keywords that occur in the request bodies
// and parameters of data/openapi-subset.json (type, properties,
// required, additionalProperties, items, enum, minItems, maxItems,
// minLength, maxLength, minimum, maximum, oneOf, anyOf, allOf, nullable,
// format date-time and $ref). A general JSON-schema library would bring a
// draft (2019-09, 2020-12) whose rules differ from OpenAPI 3.0's — nullable,
// for one, does not exist there — and a dependency for some 200 lines.
// Unknown keywords are ignored, as the OpenAPI specification says.

// schema is one decoded schema object of the description.
type schema = map[string]any

// validator resolves $refs against the description's components.
type validator struct {
	components map[string]any
}

// validationError says where a value broke which rule, in GitHub's words
// where GitHub has words for it.
type validationError struct {
	Path    string // JSON pointer-ish: "output/annotations/3/path"
	Message string
}

func (e validationError) Error() string {
	if e.Path == "" {
		return e.Message
	}
	return fmt.Sprintf("For 'properties/%s', %s", e.Path, e.Message)
}

func (v *validator) resolve(s schema) (schema, error) {
	for range 32 { // a chain of refs longer than this is a loop
		ref, ok := s["$ref"].(string)
		if !ok {
			return s, nil
		}
		rest, ok := strings.CutPrefix(ref, "#/components/")
		if !ok {
			return nil, fmt.Errorf("unsupported $ref %q", ref)
		}
		kind, name, _ := strings.Cut(rest, "/")
		group, _ := v.components[kind].(map[string]any)
		next, ok := group[name].(map[string]any)
		if !ok {
			return nil, fmt.Errorf("dangling $ref %q", ref)
		}
		s = next
	}
	return nil, fmt.Errorf("$ref loop")
}

// validate checks value (decoded with json.Decoder.UseNumber) against s and
// returns the first violation found, depth first.
func (v *validator) validate(s schema, value any, path string) error {
	s, err := v.resolve(s)
	if err != nil {
		return err
	}
	if value == nil {
		if nullable, _ := s["nullable"].(bool); nullable {
			return nil
		}
		if _, typed := s["type"]; typed {
			return validationError{path, "nil is not " + article(s["type"].(string))}
		}
	}
	if t, ok := s["type"].(string); ok && value != nil {
		if err := checkType(t, value, path); err != nil {
			return err
		}
	}
	if enum, ok := s["enum"].([]any); ok && value != nil {
		if !slices.ContainsFunc(enum, func(e any) bool { return jsonEqual(e, value) }) {
			return validationError{path, fmt.Sprintf("%s is not a member of %s", show(value), show(enum))}
		}
	}
	switch val := value.(type) {
	case string:
		n := utf8.RuneCountInString(val)
		if max, ok := number(s["maxLength"]); ok && float64(n) > max {
			return validationError{path, fmt.Sprintf("%q is too long (%d characters, maximum is %v)", clip(val), n, max)}
		}
		if min, ok := number(s["minLength"]); ok && float64(n) < min {
			return validationError{path, fmt.Sprintf("%q is too short (minimum is %v)", val, min)}
		}
		if s["format"] == "date-time" {
			if _, err := time.Parse(time.RFC3339, val); err != nil {
				return validationError{path, fmt.Sprintf("%q is not a date-time", val)}
			}
		}
	case json.Number:
		f, _ := val.Float64()
		if min, ok := number(s["minimum"]); ok && f < min {
			return validationError{path, fmt.Sprintf("%s is less than the minimum of %v", val, min)}
		}
		if max, ok := number(s["maximum"]); ok && f > max {
			return validationError{path, fmt.Sprintf("%s is greater than the maximum of %v", val, max)}
		}
	case []any:
		if max, ok := number(s["maxItems"]); ok && float64(len(val)) > max {
			return validationError{path, fmt.Sprintf("is too long (%d items, maximum is %v)", len(val), max)}
		}
		if min, ok := number(s["minItems"]); ok && float64(len(val)) < min {
			return validationError{path, fmt.Sprintf("is too short (%d items, minimum is %v)", len(val), min)}
		}
		if items, ok := s["items"].(map[string]any); ok {
			for i, x := range val {
				if err := v.validate(items, x, join(path, fmt.Sprint(i))); err != nil {
					return err
				}
			}
		}
	case map[string]any:
		props, _ := s["properties"].(map[string]any)
		if req, ok := s["required"].([]any); ok {
			for _, r := range req {
				if _, present := val[r.(string)]; !present {
					return validationError{"", fmt.Sprintf("%q wasn't supplied.", join(path, r.(string)))}
				}
			}
		}
		for _, k := range sortedKeys(val) {
			if ps, ok := props[k].(map[string]any); ok {
				if err := v.validate(ps, val[k], join(path, k)); err != nil {
					return err
				}
				continue
			}
			switch ap := s["additionalProperties"].(type) {
			case bool:
				if !ap {
					return validationError{"", fmt.Sprintf("%q is not a permitted key.", join(path, k))}
				}
			case map[string]any:
				if err := v.validate(ap, val[k], join(path, k)); err != nil {
					return err
				}
			}
		}
	}
	if all, ok := s["allOf"].([]any); ok {
		for _, sub := range all {
			if err := v.validate(sub.(map[string]any), value, path); err != nil {
				return err
			}
		}
	}
	if anyOf, ok := s["anyOf"].([]any); ok {
		var first error
		matched := false
		for _, sub := range anyOf {
			err := v.validate(sub.(map[string]any), value, path)
			if err == nil {
				matched = true
				break
			}
			first = cmpOr(first, err)
		}
		if !matched {
			return validationError{path, fmt.Sprintf("no subschema in \"anyOf\" matched (%v)", first)}
		}
	}
	if oneOf, ok := s["oneOf"].([]any); ok {
		n := 0
		var first error
		for _, sub := range oneOf {
			if err := v.validate(sub.(map[string]any), value, path); err == nil {
				n++
			} else {
				first = cmpOr(first, err)
			}
		}
		switch {
		case n == 0:
			return validationError{path, fmt.Sprintf("no subschema in \"oneOf\" matched (%v)", first)}
		case n > 1:
			return validationError{path, "more than one subschema in \"oneOf\" matched"}
		}
	}
	return nil
}

func cmpOr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

func checkType(t string, value any, path string) error {
	ok := false
	switch t {
	case "string":
		_, ok = value.(string)
	case "boolean":
		_, ok = value.(bool)
	case "object":
		_, ok = value.(map[string]any)
	case "array":
		_, ok = value.([]any)
	case "number":
		_, ok = value.(json.Number)
	case "integer":
		if n, isNum := value.(json.Number); isNum {
			r, parsed := new(big.Rat).SetString(string(n))
			ok = parsed && r.IsInt()
		}
	default:
		ok = true
	}
	if !ok {
		return validationError{path, fmt.Sprintf("%s is not %s", show(value), article(t))}
	}
	return nil
}

func article(t string) string {
	if t == "integer" || t == "object" || t == "array" {
		return "an " + t
	}
	return "a " + t
}

func number(v any) (float64, bool) {
	switch n := v.(type) {
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	case float64:
		return n, true
	}
	return 0, false
}

// jsonEqual compares two decoded JSON scalars; numbers compare by value so
// that 1 and 1.0 are equal, as JSON says.
func jsonEqual(a, b any) bool {
	fa, aNum := number(a)
	fb, bNum := number(b)
	if aNum || bNum {
		return aNum && bNum && fa == fb
	}
	return a == b
}

func show(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return clip(string(b))
}

func clip(s string) string {
	if len(s) > 60 {
		return s[:57] + "..."
	}
	return s
}

func join(path, k string) string {
	if path == "" {
		return k
	}
	return path + "/" + k
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
