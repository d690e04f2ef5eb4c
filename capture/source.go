package capture

import (
	"errors"
	"io"
	"iter"

	"github.com/flowkit/flowkit/flow"
)

// Source yields decoded packets in batches.
type Source interface {
	// ReadPackets fills dst from the start with decoded packets and returns
	// how many. At the end of a file it returns 0, io.EOF. A truncated or
	// corrupt file first delivers every packet before the damage, then
	// returns 0 and a *FileError naming the byte offset. A live source
	// returns (0, nil) when no packet arrived within its poll interval, so
	// the caller can advance its clock.
	ReadPackets(dst []flow.Packet) (int, error)
	// Stats returns the counters so far.
	Stats() Stats
	// Close releases the file or socket.
	Close() error
}

// Packets iterates over every packet of src, reusing one batch buffer. When
// reading stops on an error other than io.EOF, the error is stored in *errp
// (errp may be nil). A live source is read until the loop stops or the
// source fails.
func Packets(src Source, errp *error) iter.Seq[flow.Packet] {
	return func(yield func(flow.Packet) bool) {
		buf := make([]flow.Packet, flow.DefaultBatchSize)
		for {
			n, err := src.ReadPackets(buf)
			for i := 0; i < n; i++ {
				if !yield(buf[i]) {
					return
				}
			}
			if err != nil {
				if !errors.Is(err, io.EOF) && errp != nil {
					*errp = err
				}
				return
			}
		}
	}
}
