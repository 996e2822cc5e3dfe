package queue

import (
	"context"
	"database/sql/driver"

	"modernc.org/sqlite"
)

// Compiling SQL is most of the CPU a delivery costs on SQLite: River's
// insert is a long statement, and database/sql over modernc.org/sqlite
// prepares and finalizes every statement it runs. The connector below
// keeps each connection's prepared statements for reuse, which halves the
// time a delivery holds the database (BenchmarkWebhookAck).

// maxCachedStatements bounds the cache per connection. River and dockopt
// run a few dozen distinct statements.
const maxCachedStatements = 256

type cachingConnector struct {
	dsn    string
	driver *sqlite.Driver
}

func (c cachingConnector) Connect(context.Context) (driver.Conn, error) {
	conn, err := c.driver.Open(c.dsn)
	if err != nil {
		return nil, err
	}
	return &cachingConn{conn: conn, stmts: map[string]*cachedStmt{}}, nil
}

func (c cachingConnector) Driver() driver.Driver { return c.driver }

// conn is what modernc.org/sqlite's connections implement and the wrapper
// forwards.
type conn interface {
	driver.Conn
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.Pinger
	driver.SessionResetter
	driver.Validator
}

// cachingConn is used by one goroutine at a time (database/sql's contract),
// so its map needs no lock; a statement can still be in use by an open Rows
// when the same SQL runs again, hence busy.
type cachingConn struct {
	conn  driver.Conn
	stmts map[string]*cachedStmt
}

type cachedStmt struct {
	stmt driver.Stmt
	busy bool
}

func (c *cachingConn) inner() conn { return c.conn.(conn) }

func (c *cachingConn) Prepare(query string) (driver.Stmt, error) { return c.conn.Prepare(query) }
func (c *cachingConn) Begin() (driver.Tx, error) {
	return c.inner().BeginTx(context.Background(), driver.TxOptions{})
}
func (c *cachingConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	return c.inner().BeginTx(ctx, opts)
}
func (c *cachingConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	return c.inner().PrepareContext(ctx, query)
}
func (c *cachingConn) Ping(ctx context.Context) error         { return c.inner().Ping(ctx) }
func (c *cachingConn) ResetSession(ctx context.Context) error { return c.inner().ResetSession(ctx) }
func (c *cachingConn) IsValid() bool                          { return c.inner().IsValid() }

func (c *cachingConn) Close() error {
	for _, s := range c.stmts {
		s.stmt.Close()
	}
	c.stmts = nil
	return c.conn.Close()
}

// prepared returns a statement for query and the function to call when done
// with it.
func (c *cachingConn) prepared(ctx context.Context, query string) (driver.Stmt, func(failed bool), error) {
	if s, ok := c.stmts[query]; ok && !s.busy {
		s.busy = true
		return s.stmt, func(failed bool) { c.release(query, s, failed) }, nil
	}
	stmt, err := c.inner().PrepareContext(ctx, query)
	if err != nil {
		return nil, nil, err
	}
	if _, ok := c.stmts[query]; !ok && len(c.stmts) < maxCachedStatements {
		s := &cachedStmt{stmt: stmt, busy: true}
		c.stmts[query] = s
		return stmt, func(failed bool) { c.release(query, s, failed) }, nil
	}
	return stmt, func(bool) { stmt.Close() }, nil
}

// release makes a statement available again; one that failed is dropped, in
// case the failure left it in a state the next use would inherit.
func (c *cachingConn) release(query string, s *cachedStmt, failed bool) {
	s.busy = false
	if failed && c.stmts != nil && c.stmts[query] == s {
		delete(c.stmts, query)
		s.stmt.Close()
	}
}

func (c *cachingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	stmt, done, err := c.prepared(ctx, query)
	if err != nil {
		return nil, err
	}
	res, err := stmt.(driver.StmtExecContext).ExecContext(ctx, args)
	done(err != nil)
	return res, err
}

func (c *cachingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	stmt, done, err := c.prepared(ctx, query)
	if err != nil {
		return nil, err
	}
	rows, err := stmt.(driver.StmtQueryContext).QueryContext(ctx, args)
	if err != nil {
		done(true)
		return nil, err
	}
	return &releasingRows{Rows: rows, done: done}, nil
}

type releasingRows struct {
	driver.Rows
	done func(failed bool)
}

func (r *releasingRows) Close() error {
	err := r.Rows.Close()
	if r.done != nil {
		r.done(err != nil)
		r.done = nil
	}
	return err
}
