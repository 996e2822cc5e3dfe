package main

import "bytes"

// appendIndented appends compact, valid JSON (what json.Encoder writes
// without SetIndent) to dst indented byte for byte as json.Indent would.
//
// encoding/json indents by running its validating scanner over every byte,
// strings included; for the JSON output of a few hundred files (2 MB,
// mostly Dockerfile text in strings) that was three quarters of the
// rendering, done alone after every file was analyzed. Input that comes
// from the encoder needs no validation, so this copies each string whole
// and only looks at the punctuation between them.
func appendIndented(dst, compact []byte, prefix, indent string) []byte {
	depth := 0
	// open is set after '{' or '[': its newline waits for the next byte,
	// so that an empty object or array stays {} or [].
	open := false
	for i := 0; i < len(compact); i++ {
		c := compact[i]
		if open && c != '}' && c != ']' {
			open = false
			depth++
			dst = appendNewline(dst, prefix, indent, depth)
		}
		switch c {
		case '"':
			end := stringEnd(compact, i)
			dst = append(dst, compact[i:end]...)
			i = end - 1
		case '{', '[':
			open = true
			dst = append(dst, c)
		case ',':
			dst = append(dst, c)
			dst = appendNewline(dst, prefix, indent, depth)
		case ':':
			dst = append(dst, c, ' ')
		case '}', ']':
			if open {
				open = false
			} else {
				depth--
				dst = appendNewline(dst, prefix, indent, depth)
			}
			dst = append(dst, c)
		default:
			dst = append(dst, c)
		}
	}
	return dst
}

// stringEnd returns the index just past the string that starts with the
// quote at start.
func stringEnd(b []byte, start int) int {
	i := start + 1
	for {
		j := bytes.IndexAny(b[i:], `"\`)
		if j < 0 {
			return len(b)
		}
		i += j
		if b[i] == '"' {
			return i + 1
		}
		i += 2 // the backslash and the byte it escapes
	}
}

func appendNewline(dst []byte, prefix, indent string, depth int) []byte {
	dst = append(dst, '\n')
	dst = append(dst, prefix...)
	for range depth {
		dst = append(dst, indent...)
	}
	return dst
}
