package clickhouse

import "errors"

// Sentinel errors; test with errors.Is.
var (
	// ErrBadName is returned for a table, database or cluster name that
	// is not a plain identifier.
	ErrBadName = errors.New("clickhouse: bad name")
	// ErrNotTranslated is returned for a predicate, field or value that
	// has no ClickHouse SQL translation.
	ErrNotTranslated = errors.New("clickhouse: not translated to SQL")
	// ErrClosed is returned by a sink used after Close.
	ErrClosed = errors.New("clickhouse: sink closed")
	// ErrPartialInsert is returned when an INSERT whose answer was lost
	// is found stored in part within one partition, which ClickHouse's
	// per-part atomicity rules out: the table was changed by someone else.
	ErrPartialInsert = errors.New("clickhouse: insert found partly stored")
)
