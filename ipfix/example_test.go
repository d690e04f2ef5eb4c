package ipfix_test

import (
	"fmt"
	"time"

	"github.com/flowkit/flowkit/flow"
	"github.com/flowkit/flowkit/ipfix"
)

// Encode records into IPFIX messages and decode them back.
func Example() {
	recs := []flow.Record{{
		Start: time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC).UnixNano(),
		End:   time.Date(2026, 11, 28, 12, 0, 1, 0, time.UTC).UnixNano(),
		Src:   flow.AddrFrom4([4]byte{10, 0, 0, 1}), Dst: flow.AddrFrom4([4]byte{192, 0, 2, 7}),
		SrcPort: 40000, DstPort: 443, Protocol: flow.ProtoTCP,
		Packets: 10, Bytes: 5000, Flags: flow.SYN | flow.ACK,
	}}
	var enc ipfix.Encoder
	now := time.Date(2026, 11, 28, 12, 0, 5, 0, time.UTC)
	templates := enc.AppendTemplateMessage(nil, now)
	data, n := enc.AppendMessage(nil, now, recs)
	fmt.Println(n, "record in", len(data), "bytes")

	dec := ipfix.NewDecoder()
	var rec flow.Record
	print := func(r *flow.Record) { fmt.Println(r) }
	if err := dec.Decode(templates, &rec, print); err != nil {
		fmt.Println(err)
	}
	if err := dec.Decode(data, &rec, print); err != nil {
		fmt.Println(err)
	}
	// Output:
	// 1 record in 96 bytes
	// 2026-11-28T12:00:00.000Z 10.0.0.1:40000 -> 192.0.2.7:443 proto 6 10 pkts 5000 bytes flags SA dur 1s
}
