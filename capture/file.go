package capture

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/flowkit/flowkit/flow"
	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// readBufferSize is the buffer between the file and gopacket's readers. It
// must be at least bufio's default size: pcapgo then uses this very
// bufio.Reader instead of stacking its own, which keeps offsets exact.
const readBufferSize = 64 << 10

// countingReader counts the bytes handed to the bufio.Reader above it; the
// offset consumed by the parser is n minus what bufio still buffers.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// packetReader is what pcapgo's Reader and NgReader have in common.
type packetReader interface {
	ZeroCopyReadPacketData() ([]byte, gopacket.CaptureInfo, error)
}

// fileSource reads a pcap or pcapng stream.
type fileSource struct {
	name       string
	file       *os.File // nil for NewReader
	gz         *gzip.Reader
	cr         *countingReader
	br         *bufio.Reader
	rd         packetReader
	ng         *pcapgo.NgReader // non-nil for pcapng: per-interface link types
	link       layers.LinkType  // pcap: the file's link type
	dec        *Decoder
	err        error  // sticky: returned once the packets before it are delivered
	records    uint64 // packet records read
	compressed bool
}

// OpenFile opens a pcap or pcapng file, gzip-compressed or not; the format
// is sniffed from the magic number, not from the name.
func OpenFile(path string) (Source, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("capture: %w", err)
	}
	s, err := newFileSource(f, path)
	if err != nil {
		f.Close()
		return nil, err
	}
	s.file = f
	return s, nil
}

// NewReader reads a pcap or pcapng stream (gzip-compressed or not) from r.
// Close does not close r.
func NewReader(r io.Reader) (Source, error) {
	return newFileSource(r, "stream")
}

func newFileSource(r io.Reader, name string) (*fileSource, error) {
	s := &fileSource{name: name, dec: NewDecoder()}
	s.cr = &countingReader{r: r}
	s.br = bufio.NewReaderSize(s.cr, readBufferSize)
	magic, err := s.br.Peek(4)
	if len(magic) >= 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		s.compressed = true
		gz, gerr := gzip.NewReader(s.br)
		if gerr != nil {
			return nil, s.fail(0, fmt.Errorf("gzip header: %w", gerr))
		}
		gz.Multistream(true)
		s.gz = gz
		s.cr = &countingReader{r: gz}
		s.br = bufio.NewReaderSize(s.cr, readBufferSize)
		magic, err = s.br.Peek(4)
	}
	if err != nil {
		if len(magic) == 0 && errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%w: %s is empty", ErrFormat, name)
		}
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF // some bytes, fewer than a magic number
		}
		return nil, s.fail(0, err)
	}
	switch binary.LittleEndian.Uint32(magic) {
	case 0xa1b2c3d4, 0xd4c3b2a1, 0xa1b23c4d, 0x4d3cb2a1:
		pr, err := pcapgo.NewReader(s.br)
		if err != nil {
			return nil, s.fail(0, err)
		}
		s.rd, s.link = pr, pr.LinkType()
	case 0x0a0d0d0a:
		nr, err := pcapgo.NewNgReader(s.br, pcapgo.NgReaderOptions{WantMixedLinkType: true, SkipUnknownVersion: true})
		if err != nil {
			return nil, s.fail(0, err)
		}
		s.rd, s.ng = nr, nr
	default:
		return nil, fmt.Errorf("%w: %s starts with %x", ErrFormat, name, magic)
	}
	return s, nil
}

// offset is the position of the parser in the (decompressed) stream.
func (s *fileSource) offset() int64 { return s.cr.n - int64(s.br.Buffered()) }

// fail wraps a reader error into a *FileError for the record at start.
func (s *fileSource) fail(start int64, err error) error {
	kind := ErrCorrupt
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		kind = ErrTruncated
	}
	return &FileError{Path: s.name, Offset: start, End: s.offset(), Packets: s.records,
		Compressed: s.compressed, Kind: kind, Err: err}
}

// ReadPackets implements Source.
func (s *fileSource) ReadPackets(dst []flow.Packet) (int, error) {
	n := 0
	for n < len(dst) && s.err == nil {
		start := s.offset()
		data, ci, err := s.rd.ZeroCopyReadPacketData()
		if err != nil {
			if err == io.EOF && s.offset() != start {
				// io.ReadFull reports io.EOF when not one byte of the
				// packet data followed a complete record header.
				s.err = s.fail(start, io.ErrUnexpectedEOF)
			} else if err == io.EOF {
				s.err = io.EOF
			} else {
				s.err = s.fail(start, err)
			}
			break
		}
		s.records++
		link := s.link
		if s.ng != nil {
			link = linkOf(ci.AncillaryData)
		}
		var ts int64
		if !ci.Timestamp.IsZero() { // pcapng simple packet blocks have no time
			ts = ci.Timestamp.UnixNano()
		}
		if s.dec.Decode(data, link, ts, &dst[n]) {
			n++
		}
	}
	if n > 0 {
		return n, nil
	}
	return 0, s.err
}

// Stats implements Source.
func (s *fileSource) Stats() Stats { return s.dec.Stats() }

// Close implements Source.
func (s *fileSource) Close() error {
	if s.err == nil {
		s.err = errors.New("capture: source closed")
	}
	if s.file != nil {
		return s.file.Close()
	}
	return nil
}

// linkOf is the per-packet link type pcapgo's NgReader reports in the
// ancillary data (WantMixedLinkType).
func linkOf(ancillary []interface{}) layers.LinkType {
	if len(ancillary) > 0 {
		if l, ok := ancillary[0].(layers.LinkType); ok {
			return l
		}
	}
	return layers.LinkType(0xffff) // unknown: counted as non-IP
}
