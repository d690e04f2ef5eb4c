package ipfix

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/flowkit/flowkit/flow"
)

// FileWriter writes an IPFIX file (RFC 5655): nothing but IPFIX messages
// back to back, the template message first. It is a flow.Sink.
type FileWriter struct {
	// Encoder sets the domain, time resolution and message size; its zero
	// value writes millisecond templates in messages of up to 65535 bytes.
	Encoder Encoder
	// Now gives the export time stamped on each message; time.Now when nil.
	Now func() time.Time

	w         io.Writer
	buf       []byte
	templates bool
}

// NewFileWriter returns a FileWriter writing to w. Set its Encoder fields
// before the first WriteBatch.
func NewFileWriter(w io.Writer) *FileWriter { return &FileWriter{w: w} }

func (fw *FileWriter) now() time.Time {
	if fw.Now != nil {
		return fw.Now()
	}
	return time.Now()
}

// WriteBatch implements flow.Sink: it writes the records as one or more
// messages (the template message before the first).
func (fw *FileWriter) WriteBatch(batch []flow.Record) error {
	now := fw.now()
	fw.buf = fw.buf[:0]
	if !fw.templates {
		fw.buf = fw.Encoder.AppendTemplateMessage(fw.buf, now)
		fw.templates = true
	}
	for len(batch) > 0 {
		var n int
		fw.buf, n = fw.Encoder.AppendMessage(fw.buf, now, batch)
		if n == 0 {
			return fmt.Errorf("ipfix: a record does not fit in a %d-byte message", fw.Encoder.maxSize())
		}
		batch = batch[n:]
	}
	_, err := fw.w.Write(fw.buf)
	return err
}

// Close writes the template message if no record was written, so that
// even an empty file is a valid IPFIX file. It does not close the writer.
func (fw *FileWriter) Close() error {
	if fw.templates {
		return nil
	}
	fw.templates = true
	_, err := fw.w.Write(fw.Encoder.AppendTemplateMessage(nil, fw.now()))
	return err
}

// FileReader reads the flow records of an IPFIX file (RFC 5655), or of any
// stream of IPFIX messages such as a TCP session. It is a flow.Source.
// Data sets whose template is missing are skipped and counted in
// Decoder().Stats().MissingTemplate, as a collector would; a malformed or
// truncated message stops reading with an error naming its file offset.
type FileReader struct {
	r       *bufio.Reader
	dec     *Decoder
	msg     []byte
	pending []flow.Record
	pos     int
	off     int64
	rec     flow.Record
	emit    func(*flow.Record)
	err     error
}

// NewFileReader returns a reader of the IPFIX messages in r.
func NewFileReader(r io.Reader) *FileReader {
	fr := &FileReader{r: bufio.NewReaderSize(r, 64<<10), dec: NewDecoder()}
	fr.emit = func(rec *flow.Record) { fr.pending = append(fr.pending, *rec) }
	return fr
}

// Decoder returns the decoder, for its Stats and Templates, and to set
// OnField or Limits before reading.
func (fr *FileReader) Decoder() *Decoder { return fr.dec }

// ReadBatch implements flow.Source.
func (fr *FileReader) ReadBatch(dst []flow.Record) (int, error) {
	n := 0
	for n < len(dst) {
		if fr.pos < len(fr.pending) {
			c := copy(dst[n:], fr.pending[fr.pos:])
			fr.pos += c
			n += c
			continue
		}
		if fr.err != nil {
			return n, fr.err
		}
		fr.pending, fr.pos = fr.pending[:0], 0
		fr.err = fr.next()
	}
	return n, nil
}

// next reads and decodes one message into pending.
func (fr *FileReader) next() error {
	var hdr [16]byte
	k, err := io.ReadFull(fr.r, hdr[:])
	if err == io.EOF {
		return io.EOF
	}
	if err != nil {
		return fmt.Errorf("ipfix file: message header at byte %d: %d of 16 bytes: %w", fr.off, k, ErrTruncated)
	}
	if v := binary.BigEndian.Uint16(hdr[:]); v != 10 {
		return fmt.Errorf("ipfix file: message at byte %d: version %d, want 10: %w", fr.off, v, ErrMalformed)
	}
	length := int(binary.BigEndian.Uint16(hdr[2:]))
	if length < 16 {
		return fmt.Errorf("ipfix file: message at byte %d: length %d: %w", fr.off, length, ErrMalformed)
	}
	if cap(fr.msg) < length {
		fr.msg = make([]byte, length, 65535)
	}
	fr.msg = fr.msg[:length]
	copy(fr.msg, hdr[:])
	if k, err := io.ReadFull(fr.r, fr.msg[16:]); err != nil {
		return fmt.Errorf("ipfix file: message at byte %d: length %d, %d bytes present: %w", fr.off, length, 16+k, ErrTruncated)
	}
	err = fr.dec.Decode(fr.msg, &fr.rec, fr.emit)
	if err != nil && !errors.Is(err, ErrUnknownTemplate) && !errors.Is(err, ErrLimit) {
		return fmt.Errorf("ipfix file: message at byte %d: %w", fr.off, err)
	}
	fr.off += int64(length)
	return nil
}
