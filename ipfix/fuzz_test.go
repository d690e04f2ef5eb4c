package ipfix

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/flowkit/flowkit/flow"
)

// seedPayloads returns UDP payloads of the shared captures whose first
// two bytes hold the given version, for fuzz seeds and decoder priming.
func seedPayloads(f *testing.F, version uint16) [][]byte {
	dir := dataDir(f)
	files, _ := filepath.Glob(filepath.Join(dir, "*.pcap"))
	more, _ := filepath.Glob(filepath.Join(dir, "*", "*.pcap"))
	var out [][]byte
	for _, fn := range append(files, more...) {
		for _, p := range pcapPayloads(f, fn) {
			if len(p) >= 2 && binary.BigEndian.Uint16(p) == version {
				out = append(out, p)
			}
		}
	}
	return out
}

// fuzzDecode decodes data with a decoder primed by the seeds' templates
// and checks the invariants: no panic, errors are *Error values wrapping a
// sentinel, records never outnumber the input bytes, and the template
// memory stays within the limits.
func fuzzDecode(t *testing.T, primers [][]byte, data []byte) {
	d := NewDecoder()
	d.Limits = Limits{MaxTemplates: 64, MaxTemplateBytes: 64 << 10, MaxDomains: 8}
	var rec flow.Record
	for _, p := range primers {
		d.Decode(p, &rec, func(*flow.Record) {})
	}
	d.OnField = func(_ *flow.Record, fv *FieldValue) { _ = len(fv.Value) }
	n := 0
	err := d.Decode(data, &rec, func(*flow.Record) { n++ })
	if err != nil {
		var e *Error
		if !errors.As(err, &e) {
			t.Fatalf("error %v is not an *Error", err)
		}
		if !errors.Is(err, ErrTruncated) && !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrUnknownTemplate) &&
			!errors.Is(err, ErrLimit) && !errors.Is(err, ErrVersion) {
			t.Fatalf("error %v wraps no sentinel", err)
		}
	}
	if n > len(data) {
		t.Fatalf("%d records from %d bytes", n, len(data))
	}
	if d.nBytes > 64<<10 || d.nTmpl > 64 || len(d.domains) > 8 {
		t.Fatalf("limits exceeded: %d bytes %d templates %d domains", d.nBytes, d.nTmpl, len(d.domains))
	}
}

// primerSet picks the template-bearing messages among payloads.
func primerSet(payloads [][]byte) [][]byte {
	var out [][]byte
	for _, p := range payloads {
		d := NewDecoder()
		var rec flow.Record
		d.Decode(p, &rec, func(*flow.Record) {})
		if d.Stats().Templates > 0 {
			out = append(out, p)
		}
	}
	return out
}

func FuzzDecodeIPFIX(f *testing.F) {
	seeds := seedPayloads(f, 10)
	for _, s := range seeds {
		f.Add(s)
	}
	primers := primerSet(seeds)
	f.Fuzz(func(t *testing.T, data []byte) { fuzzDecode(t, primers, data) })
}

func FuzzDecodeNetFlowV9(f *testing.F) {
	seeds := seedPayloads(f, 9)
	for _, s := range seeds {
		f.Add(s)
	}
	primers := primerSet(seeds)
	f.Fuzz(func(t *testing.T, data []byte) { fuzzDecode(t, primers, data) })
}

func FuzzDecodeNetFlowV5(f *testing.F) {
	for _, s := range seedPayloads(f, 5) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) { fuzzDecode(t, nil, data) })
}

func FuzzFileReader(f *testing.F) {
	dir := dataDir(f)
	b, err := os.ReadFile(filepath.Join(dir, "ipfixcol2_example_flows.ipfix"))
	if err != nil {
		f.Fatal(err)
	}
	// Seeds: the first messages of the file (a small prefix keeps the
	// fuzzer fast) and a file of our own.
	end := 0
	for i := 0; i < 3 && end+4 <= len(b); i++ {
		end += int(binary.BigEndian.Uint16(b[end+2:]))
	}
	f.Add(b[:end])
	var own bytes.Buffer
	fw := NewFileWriter(&own)
	fw.WriteBatch([]flow.Record{{Src: flow.AddrFromUint32(1), Dst: flow.AddrFromUint32(2), Packets: 1, Bytes: 40, RevPackets: 1}})
	f.Add(own.Bytes())
	f.Fuzz(func(t *testing.T, data []byte) {
		fr := NewFileReader(bytes.NewReader(data))
		fr.Decoder().Limits = Limits{MaxTemplates: 64, MaxTemplateBytes: 64 << 10, MaxDomains: 8}
		buf := make([]flow.Record, 16)
		total := 0
		for {
			n, err := fr.ReadBatch(buf)
			total += n
			if err != nil {
				break
			}
		}
		if total > len(data) {
			t.Fatalf("%d records from %d bytes", total, len(data))
		}
	})
}
