package ipfix

import (
	"errors"
	"fmt"
)

// Sentinel errors. Every error that Decode returns wraps one of them, so
// callers test with errors.Is; the concrete *Error says where it happened.
var (
	// ErrTruncated: a length field points past the end of the message or set.
	ErrTruncated = errors.New("truncated")
	// ErrMalformed: a field holds a value the protocol forbids (bad version,
	// set id, template id, zero-length record...).
	ErrMalformed = errors.New("malformed")
	// ErrUnknownTemplate: a data set refers to a template this session has
	// not seen (or that was withdrawn or expired). The set is skipped; the
	// other sets of the message are still decoded.
	ErrUnknownTemplate = errors.New("unknown template")
	// ErrLimit: a template or observation domain was refused because the
	// session reached one of its Limits.
	ErrLimit = errors.New("limit reached")
	// ErrVersion: the message is not IPFIX (10), NetFlow v9 or v5.
	ErrVersion = errors.New("unsupported version")
)

// Error says what went wrong and where: the set id (0 when the problem is
// in the message header) and the byte offset from the start of the message.
type Error struct {
	Version uint16 // 10 for IPFIX, 9 or 5 for NetFlow
	SetID   uint16 // set (flowset) id, 0 for the message header
	Offset  int    // byte offset of the problem from the start of the message
	Err     error  // one of the sentinel errors
	Detail  string // what exactly
}

// Error implements error.
func (e *Error) Error() string {
	proto := "ipfix"
	if e.Version == 9 || e.Version == 5 {
		proto = fmt.Sprintf("netflow v%d", e.Version)
	}
	if e.SetID == 0 {
		return fmt.Sprintf("%s: offset %d: %v: %s", proto, e.Offset, e.Err, e.Detail)
	}
	return fmt.Sprintf("%s: set %d at offset %d: %v: %s", proto, e.SetID, e.Offset, e.Err, e.Detail)
}

// Unwrap returns the sentinel error.
func (e *Error) Unwrap() error { return e.Err }

func errAt(version, set uint16, off int, sentinel error, format string, args ...any) error {
	return &Error{Version: version, SetID: set, Offset: off, Err: sentinel, Detail: fmt.Sprintf(format, args...)}
}
