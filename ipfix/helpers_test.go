package ipfix

import (
	"errors"
	"os"
	"testing"

	"github.com/flowkit/flowkit/internal/testenv"

	"github.com/flowkit/flowkit/flow"
)

// dataDir returns ../shared/data/ipfix beside the module root.
func dataDir(t testing.TB) string { return testenv.Shared(t, "data", "ipfix") }

// pcapPayloads returns the UDP payloads of a capture, in order.
func pcapPayloads(t testing.TB, path string) [][]byte {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out [][]byte
	if err := ReadPcapDatagrams(f, func(dg *Datagram) error {
		out = append(out, append([]byte(nil), dg.Payload...))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// decodeAll decodes payloads with d and returns the records and the soft
// (missing template) errors; any other error fails the test.
func decodeAll(t testing.TB, d *Decoder, payloads [][]byte) ([]flow.Record, []error) {
	var recs []flow.Record
	var soft []error
	var rec flow.Record
	for i, p := range payloads {
		err := d.Decode(p, &rec, func(r *flow.Record) { recs = append(recs, *r) })
		if err != nil {
			if errors.Is(err, ErrUnknownTemplate) {
				soft = append(soft, err)
				continue
			}
			t.Fatalf("datagram %d: %v", i+1, err)
		}
	}
	return recs, soft
}
