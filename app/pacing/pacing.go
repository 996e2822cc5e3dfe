// Package pacing decides when dockopt may open a new pull request on an
// installation: at most MaxOpen of its pull requests open at once and
// PerHour new ones in any hour (like Renovate's prConcurrentLimit and
// prHourlyLimit), and only when the installation's budget of
// content-creating requests has room. The rest wait in line, most serious
// findings first, and are told where they stand and about when their turn
// comes.
//
// The state of each installation — the pull requests it has open, those
// opened in the last hour and the line — is one row of the queue's
// database, so every replica paces from the same state.
package pacing

import (
	"cmp"
	"context"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/dockopt/dockopt/app/rowstore"
)

// Defaults, as Renovate's: ten open, two new an hour.
const (
	DefaultMaxOpen = 10
	DefaultPerHour = 2
)

// grantTTL is how long a granted place waits for its pull request to be
// opened or given back; a process that died holding one loses it then.
const grantTTL = time.Hour

// refreshEvery is how often the open pull requests are looked up again
// when they are what keeps the line waiting (people merge and close them
// without telling dockopt).
const refreshEvery = 5 * time.Minute

// Pacer paces the pull requests of every installation.
type Pacer struct {
	table *rowstore.Table
	// MaxOpen and PerHour are the limits per installation.
	MaxOpen, PerHour int
	// Now is the pacer's clock (tests run it on the fake GitHub's).
	Now func() time.Time
	// Room, when set, says how many more pull requests the installation's
	// budget has room for now, and when it will have room for one if none.
	Room func(ctx context.Context, installation int64) (prs int, at time.Time, err error)
}

// Open creates the pacer's table if needed, with the default limits.
func Open(ctx context.Context, db rowstore.DB) (*Pacer, error) {
	t, err := rowstore.Open(ctx, db, "dockopt_pacing")
	if err != nil {
		return nil, err
	}
	return &Pacer{table: t, MaxOpen: DefaultMaxOpen, PerHour: DefaultPerHour, Now: time.Now}, nil
}

// Want is a pull request dockopt would open.
type Want struct {
	Installation int64
	// Repo is "owner/name"; Branch the base branch.
	Repo, Branch string
	// SHA is the analyzed commit and CheckRun its check run, which the
	// pull request's turn updates.
	SHA      string
	CheckRun int64
	// Priority orders the line: more serious findings, higher.
	Priority int
	// Asked: a person asked for this pull request; it does not wait, but
	// it counts.
	Asked bool
}

// Reason says what a waiting pull request waits for.
type Reason string

const (
	// OpenLimit: MaxOpen pull requests are open; one must be merged or
	// closed first.
	OpenLimit Reason = "open"
	// HourLimit: PerHour were opened in the last hour.
	HourLimit Reason = "hour"
	// BudgetLimit: the installation's content-creation budget is spent
	// on check runs first.
	BudgetLimit Reason = "budget"
)

// Decision is the pacer's answer to a Want.
type Decision struct {
	Admitted bool
	// Position is the place in line (1 is next) among Waiting.
	Position, Waiting int
	Because           Reason
	// ResumeAt estimates when the pull request's turn comes; zero when it
	// waits for people to merge or close pull requests.
	ResumeAt time.Time
	// MaxOpen and PerHour are the limits that applied.
	MaxOpen, PerHour int
}

// Waiter is a pull request waiting for its turn.
type Waiter struct {
	Repo     string `json:"repo"`
	Branch   string `json:"branch"`
	SHA      string `json:"sha"`
	CheckRun int64  `json:"check_run"`
	Priority int    `json:"priority"`
	Since    int64  `json:"since"`
}

// OpenPR is a pull request of dockopt's that is open, or a granted place
// whose pull request is being opened (Number 0).
type OpenPR struct {
	Repo   string `json:"repo"`
	Branch string `json:"branch"`
	Number int    `json:"number"`
	At     int64  `json:"at"`
}

type state struct {
	Open []OpenPR `json:"open"`
	// Opened are the times of the places granted in the last hour.
	Opened    []int64  `json:"opened"`
	Waiting   []Waiter `json:"waiting"`
	Refreshed int64    `json:"refreshed"`
}

func key(installation int64) string { return strconv.FormatInt(installation, 10) }

func same(repo, branch, r, b string) bool { return strings.EqualFold(repo, r) && branch == b }

func (p *Pacer) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

func (s *state) prune(now time.Time) {
	hourAgo := now.Add(-time.Hour).Unix()
	s.Opened = slices.DeleteFunc(s.Opened, func(t int64) bool { return t <= hourAgo })
	expired := now.Add(-grantTTL).Unix()
	s.Open = slices.DeleteFunc(s.Open, func(o OpenPR) bool { return o.Number == 0 && o.At <= expired })
}

// free is how many places can be granted now, by the two limits.
func (p *Pacer) free(s *state) int {
	return max(0, min(p.MaxOpen-len(s.Open), p.PerHour-len(s.Opened)))
}

func (s *state) sortLine() {
	slices.SortStableFunc(s.Waiting, func(a, b Waiter) int {
		return cmp.Or(cmp.Compare(b.Priority, a.Priority), cmp.Compare(a.Since, b.Since), strings.Compare(a.Repo, b.Repo))
	})
}

func (s *state) grant(repo, branch string, now time.Time) {
	s.Open = append(s.Open, OpenPR{Repo: repo, Branch: branch, At: now.Unix()})
	s.Opened = append(s.Opened, now.Unix())
	s.drop(repo, branch)
}

func (s *state) drop(repo, branch string) {
	s.Waiting = slices.DeleteFunc(s.Waiting, func(w Waiter) bool { return same(repo, branch, w.Repo, w.Branch) })
}

// budgetRoom asks the budget how many pull requests fit; without a
// budget, any number.
func (p *Pacer) budgetRoom(ctx context.Context, installation int64) (int, time.Time, error) {
	if p.Room == nil {
		return math.MaxInt, time.Time{}, nil
	}
	return p.Room(ctx, installation)
}

// Admit decides whether a pull request may be opened now. Admitted, it
// holds a place until Opened or Release; otherwise it joins the line
// (replacing its earlier place, keeping its seniority).
func (p *Pacer) Admit(ctx context.Context, w Want) (Decision, error) {
	room, roomAt, err := p.budgetRoom(ctx, w.Installation)
	if err != nil {
		return Decision{}, err
	}
	roomOK := room > 0
	now := p.now()
	var d Decision
	err = rowstore.Update(ctx, p.table, key(w.Installation), func(s *state) (bool, error) {
		d = Decision{MaxOpen: p.MaxOpen, PerHour: p.PerHour}
		s.prune(now)
		held := false
		// Dockopt asks for a new pull request only when none is open for
		// the branch: one recorded open was merged or closed since.
		s.Open = slices.DeleteFunc(s.Open, func(o OpenPR) bool {
			if !same(w.Repo, w.Branch, o.Repo, o.Branch) {
				return false
			}
			held = held || o.Number == 0
			return o.Number != 0
		})
		if held {
			// A retry of a job that was granted its place already.
			s.drop(w.Repo, w.Branch)
			d.Admitted = true
			return true, nil
		}
		since := now.Unix()
		for _, x := range s.Waiting {
			if same(w.Repo, w.Branch, x.Repo, x.Branch) {
				since = x.Since
			}
		}
		s.drop(w.Repo, w.Branch)
		me := Waiter{Repo: w.Repo, Branch: w.Branch, SHA: w.SHA, CheckRun: w.CheckRun, Priority: w.Priority, Since: since}
		s.Waiting = append(s.Waiting, me)
		s.sortLine()
		rank := slices.IndexFunc(s.Waiting, func(x Waiter) bool { return same(w.Repo, w.Branch, x.Repo, x.Branch) })
		if w.Asked || (rank < p.free(s) && roomOK) {
			s.grant(w.Repo, w.Branch, now)
			d.Admitted = true
			return true, nil
		}
		d.Position, d.Waiting = rank+1, len(s.Waiting)
		d.Because, d.ResumeAt = p.why(s, rank, roomOK, roomAt, now)
		return true, nil
	})
	return d, err
}

// why says what keeps the waiter at rank waiting and estimates its turn:
// places free up an hour after each was granted, one by one, and none
// while the open pull requests are at the limit.
func (p *Pacer) why(s *state, rank int, roomOK bool, roomAt time.Time, now time.Time) (Reason, time.Time) {
	openLeft := p.MaxOpen - len(s.Open)
	if openLeft <= rank {
		return OpenLimit, time.Time{}
	}
	freeNow := p.free(s)
	var at time.Time
	reason := HourLimit
	if rank < freeNow {
		at = now
	} else {
		slots := slices.Clone(s.Opened)
		slices.Sort(slots)
		i := rank - freeNow
		if len(slots) == 0 {
			at = now.Add(time.Hour)
		} else {
			at = time.Unix(slots[i%len(slots)], 0).Add(time.Hour * time.Duration(1+i/len(slots)))
		}
	}
	if !roomOK && roomAt.After(at) {
		at, reason = roomAt, BudgetLimit
	}
	return reason, at
}

// Opened records that a granted place became pull request number.
func (p *Pacer) Opened(ctx context.Context, installation int64, repo, branch string, number int) error {
	now := p.now()
	return rowstore.Update(ctx, p.table, key(installation), func(s *state) (bool, error) {
		s.prune(now)
		for i, o := range s.Open {
			if same(repo, branch, o.Repo, o.Branch) {
				s.Open[i].Number = number
				return true, nil
			}
		}
		s.Open = append(s.Open, OpenPR{Repo: repo, Branch: branch, Number: number, At: now.Unix()})
		return true, nil
	})
}

// Release gives back a granted place no pull request was opened for (the
// change was declined before, or someone else's commits block the branch).
func (p *Pacer) Release(ctx context.Context, installation int64, repo, branch string) error {
	return rowstore.Update(ctx, p.table, key(installation), func(s *state) (bool, error) {
		return s.ungrant(repo, branch), nil
	})
}

// ungrant removes a granted place and its count in the hour.
func (s *state) ungrant(repo, branch string) bool {
	i := slices.IndexFunc(s.Open, func(o OpenPR) bool { return o.Number == 0 && same(repo, branch, o.Repo, o.Branch) })
	if i < 0 {
		return false
	}
	if j := slices.Index(s.Opened, s.Open[i].At); j >= 0 {
		s.Opened = slices.Delete(s.Opened, j, j+1)
	}
	s.Open = slices.Delete(s.Open, i, i+1)
	return true
}

// Requeue gives back a granted place whose pull request could not be
// opened this time (GitHub failed): the waiter goes back to the line with
// its seniority, to be granted again.
func (p *Pacer) Requeue(ctx context.Context, installation int64, w Waiter) error {
	return rowstore.Update(ctx, p.table, key(installation), func(s *state) (bool, error) {
		s.ungrant(w.Repo, w.Branch)
		s.drop(w.Repo, w.Branch)
		s.Waiting = append(s.Waiting, w)
		return true, nil
	})
}

// Track records a pull request of dockopt's that is open, as found on
// GitHub: it counts toward MaxOpen and its branch leaves the line.
func (p *Pacer) Track(ctx context.Context, installation int64, repo, branch string, number int) error {
	return rowstore.Update(ctx, p.table, key(installation), func(s *state) (bool, error) {
		for i, o := range s.Open {
			if same(repo, branch, o.Repo, o.Branch) {
				if o.Number == number && !slices.ContainsFunc(s.Waiting, func(w Waiter) bool { return same(repo, branch, w.Repo, w.Branch) }) {
					return false, nil
				}
				s.Open[i].Number = number
				s.drop(repo, branch)
				return true, nil
			}
		}
		s.Open = append(s.Open, OpenPR{Repo: repo, Branch: branch, Number: number, At: p.now().Unix()})
		s.drop(repo, branch)
		return true, nil
	})
}

// Forget drops what the pacer holds for a branch: its open pull request
// (closed or withdrawn) and its place in line (nothing left to propose).
func (p *Pacer) Forget(ctx context.Context, installation int64, repo, branch string) error {
	return rowstore.Update(ctx, p.table, key(installation), func(s *state) (bool, error) {
		n := len(s.Open) + len(s.Waiting)
		s.Open = slices.DeleteFunc(s.Open, func(o OpenPR) bool { return o.Number != 0 && same(repo, branch, o.Repo, o.Branch) })
		s.drop(repo, branch)
		return len(s.Open)+len(s.Waiting) != n, nil
	})
}

// Closed forgets an open pull request found merged or closed.
func (p *Pacer) Closed(ctx context.Context, installation int64, repo string, number int) error {
	return rowstore.Update(ctx, p.table, key(installation), func(s *state) (bool, error) {
		n := len(s.Open)
		s.Open = slices.DeleteFunc(s.Open, func(o OpenPR) bool { return o.Number == number && strings.EqualFold(o.Repo, repo) })
		return len(s.Open) != n, nil
	})
}

// Turn is what Due hands the pace job.
type Turn struct {
	// Granted are the waiters whose turn it is, most serious first; each
	// holds a place until Opened or Release.
	Granted []Waiter
	// Waiting is how many are still in line after them.
	Waiting int
	// Next is when to look again: the next place the hour frees, or when
	// the budget has room; zero when it waits for open pull requests to
	// close.
	Next time.Time
	// Refresh asks the caller to look up the open pull requests, which
	// are what keeps the line waiting, report closed ones (Closed) and
	// call Due again. It comes only with nothing Granted.
	Refresh []OpenPR
}

// Due grants the places that are free now to the head of the line.
func (p *Pacer) Due(ctx context.Context, installation int64) (Turn, error) {
	var peek state
	if _, err := p.table.Get(ctx, key(installation), &peek); err != nil {
		return Turn{}, err
	}
	now := p.now()
	peek.prune(now)
	var room int
	var roomAt time.Time
	if min(p.free(&peek), len(peek.Waiting)) > 0 {
		var err error
		if room, roomAt, err = p.budgetRoom(ctx, installation); err != nil {
			return Turn{}, err
		}
	}
	var t Turn
	err := rowstore.Update(ctx, p.table, key(installation), func(s *state) (bool, error) {
		t = Turn{}
		s.prune(now)
		s.sortLine()
		n := min(p.free(s), room, len(s.Waiting))
		for _, w := range slices.Clone(s.Waiting[:n]) {
			s.grant(w.Repo, w.Branch, now)
			t.Granted = append(t.Granted, w)
		}
		t.Waiting = len(s.Waiting)
		if t.Waiting == 0 || n > 0 {
			// Those granted go first; the caller looks again after them.
			return n > 0, nil
		}
		if p.MaxOpen-len(s.Open) <= 0 {
			if now.Unix()-s.Refreshed >= int64(refreshEvery/time.Second) {
				s.Refreshed = now.Unix()
				for _, o := range s.Open {
					if o.Number != 0 {
						t.Refresh = append(t.Refresh, o)
					}
				}
				return true, nil
			}
			t.Next = time.Unix(s.Refreshed, 0).Add(refreshEvery)
			return n > 0, nil
		}
		_, t.Next = p.why(s, 0, room > 0 || p.free(s) == 0, roomAt, now)
		return n > 0, nil
	})
	return t, err
}

// Line returns the waiters of an installation in order, for reports.
func (p *Pacer) Line(ctx context.Context, installation int64) ([]Waiter, error) {
	var s state
	if _, err := p.table.Get(ctx, key(installation), &s); err != nil {
		return nil, err
	}
	s.sortLine()
	return s.Waiting, nil
}
