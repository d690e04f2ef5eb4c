package capture

import (
	"errors"
	"fmt"
)

// Sentinel errors; errors.Is matches them against the errors this package
// returns.
var (
	// ErrTruncated: the file ends inside a header or packet record.
	ErrTruncated = errors.New("capture: truncated file")
	// ErrCorrupt: a header or record holds impossible values.
	ErrCorrupt = errors.New("capture: corrupt file")
	// ErrFormat: the input is not a pcap or pcapng file (gzip-compressed or not).
	ErrFormat = errors.New("capture: not a pcap or pcapng file")
	// ErrNoLibpcap: a tcpdump filter expression was asked for in a build
	// without the libpcap build tag.
	ErrNoLibpcap = errors.New("capture: tcpdump filter expressions need a build with -tags libpcap (cgo and libpcap); give raw BPF instructions instead")
)

// FileError describes a damaged capture file: which file, where, and why.
type FileError struct {
	Path       string // file name, or "stream" for NewReader
	Offset     int64  // byte offset of the record that could not be read
	End        int64  // byte offset where reading stopped: the end of the data of a truncated file
	Packets    uint64 // records read successfully before the damage
	Compressed bool   // offsets count decompressed bytes of a gzip file
	Kind       error  // ErrTruncated or ErrCorrupt
	Err        error  // the underlying reader's error
}

// Error names the file, the offsets and the cause.
func (e *FileError) Error() string {
	where := "offset"
	if e.Compressed {
		where = "decompressed offset"
	}
	if e.Kind == ErrTruncated {
		return fmt.Sprintf("capture: %s: truncated: the record at %s %d is incomplete, the data ends at %d (%d packets read before it): %v",
			e.Path, where, e.Offset, e.End, e.Packets, e.Err)
	}
	return fmt.Sprintf("capture: %s: corrupt record at %s %d (%d packets read before it): %v",
		e.Path, where, e.Offset, e.Packets, e.Err)
}

// Unwrap lets errors.Is see both the kind (ErrTruncated, ErrCorrupt) and the
// underlying error.
func (e *FileError) Unwrap() []error { return []error{e.Kind, e.Err} }
