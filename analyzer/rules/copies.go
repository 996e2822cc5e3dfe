package rules

import (
	"path"
	"strings"

	"github.com/dockopt/dockopt/analyzer"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
)

// Queries on COPY and ADD and on what they take from the build context.

// copySpec is a COPY or ADD reduced to what the context rules need.
type copySpec struct {
	in      *analyzer.Instruction
	sources []string
	dest    string
	from    string
	chown   string
	add     bool
}

// copyOf returns the spec of a COPY or ADD instruction.
func copyOf(in *analyzer.Instruction) (copySpec, bool) {
	switch c := in.Command.(type) {
	case *instructions.CopyCommand:
		return copySpec{in: in, sources: c.SourcePaths, dest: c.DestPath, from: c.From, chown: c.Chown}, true
	case *instructions.AddCommand:
		return copySpec{in: in, sources: c.SourcePaths, dest: c.DestPath, chown: c.Chown, add: true}, true
	}
	return copySpec{}, false
}

// contextSources returns the sources read from the build context: not
// from another stage or image, not URLs or git repositories, no heredocs.
func (c copySpec) contextSources() []string {
	if c.from != "" {
		return nil
	}
	var out []string
	for _, s := range c.sources {
		if c.add && isRemoteSource(s) {
			continue
		}
		if strings.HasPrefix(s, "<<") {
			continue
		}
		out = append(out, s)
	}
	return out
}

// isRemoteSource reports an ADD source BuildKit fetches instead of reading
// it from the context: an HTTP URL or a git repository. Any other scheme is
// a (strange) context path to BuildKit.
func isRemoteSource(src string) bool {
	s := strings.ToLower(src)
	return strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://") || strings.HasPrefix(s, "git@") ||
		strings.HasPrefix(s, "git://") || strings.HasPrefix(s, "ssh://")
}

// isWholeContext reports a source that names the whole context folder.
func isWholeContext(src string) bool {
	switch path.Clean(strings.TrimPrefix(src, "/")) {
	case ".", "*", "":
		return true
	}
	return src == "/"
}

// copiesWholeContext reports whether the instruction sends the whole
// context folder into the image.
func copiesWholeContext(in *analyzer.Instruction) bool {
	c, ok := copyOf(in)
	if !ok {
		return false
	}
	for _, s := range c.contextSources() {
		if isWholeContext(s) {
			return true
		}
	}
	return false
}

// contextCopied returns, for one context file, whether a COPY or ADD of
// the build context sends it into the image before an instruction.
func contextCopied(bc *analyzer.BuildContext, file string) *chainFirst {
	return newChainFirst(func(in *analyzer.Instruction) bool {
		c, ok := copyOf(in)
		if !ok {
			return false
		}
		for _, src := range c.contextSources() {
			if analyzer.SourceCovers(src, file) && !bc.DockerIgnore.Excludes(file) {
				return true
			}
		}
		return false
	})
}
