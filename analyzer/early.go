package analyzer

import (
	"context"
	"path"
	"sync"
)

// earlyAnalyses analyzes Dockerfiles while the folder is still being
// walked, each with its own folder as context, for the analysis proper to
// take (claim) when the walk has found every target and its context.
// Listing the folders of a repository is system calls, one folder after
// another's parent; the analysis of the first files need not wait for the
// last folder (a tenth of the benchmark corpus's wall time did).
//
// What an early analysis produces is what analyzeFile produces for the
// same path and context, so a claimed result is the one the analysis
// proper would have made; only one whose context a compose file changed
// is thrown away, with what it was refused (pendingNotes).
type earlyAnalyses struct {
	run *analysisRun
	ctx context.Context
	// holds is set when results keep their syntax models until claimed
	// (the patcher reads them); then at most maxEarlyHeld are made.
	holds bool

	mu     sync.Mutex
	wake   *sync.Cond
	queue  []*earlyFile
	byPath map[string]*earlyFile
	closed bool
	wg     sync.WaitGroup
}

// maxEarlyHeld bounds the early results that keep their models, so that a
// walk that takes long cannot fill memory with them.
const maxEarlyHeld = 256

type earlyFile struct {
	target Target
	// claimed is set when a worker, early or not, has taken the file.
	claimed bool
	done    chan struct{}
	fr      *FileResult
	// unreadable is analyzeFile's: fr says why the file was not read.
	unreadable bool
}

func (run *analysisRun) startEarly(ctx context.Context) *earlyAnalyses {
	e := &earlyAnalyses{run: run, ctx: ctx, holds: !run.c.release || run.c.each != nil, byPath: map[string]*earlyFile{}}
	e.wake = sync.NewCond(&e.mu)
	for range analyzeWorkers {
		e.wg.Add(1)
		go e.work()
	}
	return e
}

// offer queues the Dockerfile at p, found by the walk, for an early
// analysis; from several goroutines at once.
func (e *earlyAnalyses) offer(p string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed || e.byPath[p] != nil || (e.holds && len(e.byPath) >= maxEarlyHeld) {
		return
	}
	f := &earlyFile{target: Target{Path: p, Context: path.Dir(p)}, done: make(chan struct{})}
	e.byPath[p] = f
	e.queue = append(e.queue, f)
	e.wake.Signal()
}

func (e *earlyAnalyses) work() {
	defer e.wg.Done()
	for {
		e.mu.Lock()
		for len(e.queue) == 0 && !e.closed {
			e.wake.Wait()
		}
		if e.closed || e.ctx.Err() != nil {
			e.mu.Unlock()
			return
		}
		f := e.queue[0]
		e.queue = e.queue[1:]
		f.claimed = true
		e.mu.Unlock()
		f.fr, f.unreadable = e.run.analyzeFile(e.ctx, f.target, false)
		if f.fr != nil && !e.holds {
			f.fr.releaseModel()
		}
		close(f.done)
	}
}

// close ends the early analyses: the walk is over. The files not started
// are left to the analysis proper; those running finish.
func (e *earlyAnalyses) close() {
	e.mu.Lock()
	e.closed = true
	e.queue = nil
	e.mu.Unlock()
	e.wake.Broadcast()
}

// wait returns when no early analysis runs any more.
func (e *earlyAnalyses) wait() { e.wg.Wait() }

// claim returns the early analysis of t, waiting for it to end, when one
// was made with t's context; nil otherwise (none, another context, not
// started, canceled), and the caller analyzes t itself.
func (e *earlyAnalyses) claim(t Target) (fr *FileResult, unreadable bool) {
	if e == nil {
		return nil, false
	}
	e.mu.Lock()
	f := e.byPath[t.Path]
	if f == nil || f.target.Context != t.Context {
		e.mu.Unlock()
		return nil, false
	}
	started := f.claimed
	f.claimed = true
	e.mu.Unlock()
	if !started {
		return nil, false
	}
	<-f.done
	if f.fr == nil {
		return nil, false
	}
	e.run.contexts.entry(t.Context).notes.keep()
	return f.fr, f.unreadable
}
