package analyzer

import "context"

// Progress is told when work on a file starts (phase "analyzing",
// "patching") and when it ends (phase ""). The analysis child of the App
// passes it on to its parent, so that an analysis stopped for going over
// its budget can name the files it was working on.
type Progress func(path, phase string)

type progressKey struct{}

// WithProgress returns ctx carrying p, which the analysis and the patcher
// call from several goroutines at once.
func WithProgress(ctx context.Context, p Progress) context.Context {
	return context.WithValue(ctx, progressKey{}, p)
}

// Track tells ctx's Progress, if any, that work on path starts in phase,
// and returns the function that says it ended.
func Track(ctx context.Context, path, phase string) (done func()) {
	p, _ := ctx.Value(progressKey{}).(Progress)
	if p == nil {
		return func() {}
	}
	p(path, phase)
	return func() { p(path, "") }
}
