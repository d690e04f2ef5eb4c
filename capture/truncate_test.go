package capture

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/flowkit/flowkit/flow"
)

// readUntilError drains src and returns the packets and the first error
// other than io.EOF (nil for a clean end).
func readUntilError(src Source) ([]flow.Packet, error) {
	var all []flow.Packet
	buf := make([]flow.Packet, 16)
	for {
		n, err := src.ReadPackets(buf)
		all = append(all, buf[:n]...)
		if err == io.EOF {
			return all, nil
		}
		if err != nil {
			if n != 0 {
				return all, fmt.Errorf("error returned together with %d packets", n)
			}
			// The error is sticky.
			if n2, err2 := src.ReadPackets(buf); n2 != 0 || err2 == nil {
				return all, fmt.Errorf("after %v: %d, %v", err, n2, err2)
			}
			return all, err
		}
	}
}

// recordEnds returns the end offsets of the packet records of a pcap file
// or the packet blocks of a pcapng file, and every offset where a cut
// leaves a well-formed shorter file (record or block boundaries).
func recordEnds(t *testing.T, b []byte) (ends []int64, clean map[int64]bool) {
	clean = map[int64]bool{}
	if binary.LittleEndian.Uint32(b) == 0x0a0d0d0a {
		for off := 0; off+8 <= len(b); {
			typ := binary.LittleEndian.Uint32(b[off:])
			n := int(binary.LittleEndian.Uint32(b[off+4:]))
			off += n
			clean[int64(off)] = true
			if typ == 6 || typ == 3 || typ == 2 {
				ends = append(ends, int64(off))
			}
		}
		return ends, clean
	}
	off := 24
	clean[24] = true
	for off+16 <= len(b) {
		off += 16 + int(binary.LittleEndian.Uint32(b[off+8:]))
		ends = append(ends, int64(off))
		clean[int64(off)] = true
	}
	return ends, clean
}

// TestTruncatedFiles cuts real captures (pcap and pcapng) at many offsets:
// never a panic, every packet of a complete record before the cut is
// delivered, and a cut inside a record gives ErrTruncated naming the file
// and an offset no later than the cut.
func TestTruncatedFiles(t *testing.T) {
	for _, name := range []string{"ndpi_smtp.pcap", "zeek_ipv6-fragmented-dns.pcap", "ndpi_wireguard.pcap" /* pcapng */} {
		path := pcapPath(t, name)
		whole, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		full, _ := readBytes(t, whole)
		ends, clean := recordEnds(t, whole)
		// Decoded packets per complete record.
		perRecord := make([]int, len(ends))
		{
			frames, _ := decodeFrames(t, path)
			if len(frames) != len(ends) {
				t.Fatalf("%s: %d frames, %d records", name, len(frames), len(ends))
			}
			for i, f := range frames {
				perRecord[i] = 0
				if f.ok {
					perRecord[i] = 1
				}
			}
		}
		// Cut around every record boundary and every 11th byte; one cut in
		// 50 goes through a real file to check that the path is named.
		cuts := map[int]bool{}
		for c := 1; c < len(whole); c += 11 {
			cuts[c] = true
		}
		for _, e := range ends {
			for _, d := range []int64{-17, -1, 0, 1, 2, 9, 16, 17} {
				if c := e + d; c > 0 && c < int64(len(whole)) {
					cuts[int(c)] = true
				}
			}
		}
		cut := filepath.Join(t.TempDir(), name)
		checked := 0
		for c := range cuts {
			complete := 0
			for i, e := range ends {
				if e <= int64(c) {
					complete += perRecord[i]
				}
			}
			where := "stream"
			var src Source
			var err error
			if checked%50 == 0 {
				if err := os.WriteFile(cut, whole[:c], 0o644); err != nil {
					t.Fatal(err)
				}
				where = cut
				src, err = OpenFile(cut)
			} else {
				src, err = NewReader(bytes.NewReader(whole[:c]))
			}
			var got []flow.Packet
			if err == nil {
				got, err = readUntilError(src)
				src.Close()
			}
			checked++
			if !samePackets(got, full[:complete]) {
				t.Fatalf("%s cut at %d: %d packets, want the first %d", name, c, len(got), complete)
			}
			if clean[int64(c)] {
				if err != nil {
					t.Fatalf("%s cut at boundary %d: %v", name, c, err)
				}
				continue
			}
			var fe *FileError
			if !errors.Is(err, ErrTruncated) || !errors.As(err, &fe) {
				t.Fatalf("%s cut at %d: err %v, want ErrTruncated", name, c, err)
			}
			if fe.Offset > int64(c) || fe.End > int64(c) || !strings.Contains(err.Error(), where) ||
				!strings.Contains(err.Error(), fmt.Sprintf("offset %d", fe.Offset)) {
				t.Fatalf("%s cut at %d: %v (offset %d, end %d)", name, c, err, fe.Offset, fe.End)
			}
			if binary.LittleEndian.Uint32(whole) != 0x0a0d0d0a && c > 24 && fe.Offset != lastEndBefore(ends, int64(c)) {
				t.Fatalf("%s cut at %d: error at offset %d, the broken record starts at %d", name, c, fe.Offset, lastEndBefore(ends, int64(c)))
			}
		}
		t.Logf("%s: %d cuts checked", name, checked)
	}
}

func samePackets(a, b []flow.Packet) bool {
	return len(a) == len(b) && (len(a) == 0 || reflect.DeepEqual(a, b))
}

func lastEndBefore(ends []int64, c int64) int64 {
	start := int64(24)
	for _, e := range ends {
		if e <= c {
			start = e
		}
	}
	return start
}

// TestTruncatedGzip cuts a gzip-compressed capture: the packets decoded are
// a prefix of the whole, and the error is ErrTruncated with decompressed
// offsets.
func TestTruncatedGzip(t *testing.T) {
	whole, err := os.ReadFile(pcapPath(t, "ndpi_smtp.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	full, _ := readBytes(t, whole)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(whole)
	zw.Close()
	z := gz.Bytes()
	for c := 2; c < len(z); c += 5 {
		src, err := NewReader(bytes.NewReader(z[:c]))
		var got []flow.Packet
		if err == nil {
			got, err = readUntilError(src)
		}
		if len(got) > len(full) || !samePackets(got, full[:len(got)]) {
			t.Fatalf("cut at %d: %d packets are not a prefix of the file", c, len(got))
		}
		var fe *FileError
		if !errors.Is(err, ErrTruncated) || !errors.As(err, &fe) || !fe.Compressed {
			t.Fatalf("cut at %d: %v", c, err)
		}
	}
}

// TestCorruptRecord: impossible record lengths give ErrCorrupt at the
// record's offset, after the packets before it.
func TestCorruptRecord(t *testing.T) {
	whole, err := os.ReadFile(pcapPath(t, "ndpi_smtp.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	ends, _ := recordEnds(t, whole)
	full, _ := readBytes(t, whole)
	at := ends[9] // the 11th record header
	for _, c := range []struct {
		name     string
		caplen   uint32
		origlen  uint32
		contains string
	}{
		{"caplen beyond any snap length", 1 << 30, 1 << 30, "snap length"},
		{"caplen beyond the original length", 100, 50, "original packet length"},
	} {
		b := bytes.Clone(whole)
		binary.LittleEndian.PutUint32(b[at+8:], c.caplen)
		binary.LittleEndian.PutUint32(b[at+12:], c.origlen)
		src, err := NewReader(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		got, err := readUntilError(src)
		var fe *FileError
		if !errors.Is(err, ErrCorrupt) || !errors.As(err, &fe) || fe.Offset != at || !strings.Contains(err.Error(), c.contains) {
			t.Fatalf("%s: %v (want ErrCorrupt at offset %d)", c.name, err, at)
		}
		if !samePackets(got, full[:10]) {
			t.Fatalf("%s: %d packets before the damage, want 10", c.name, len(got))
		}
		t.Log(err)
	}
}
