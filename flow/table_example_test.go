package flow_test

import (
	"fmt"
	"time"

	"github.com/flowkit/flowkit/flow"
	"github.com/flowkit/flowkit/timeouts"
)

// A table turns decoded packets into flow records: here a TCP handshake
// and teardown, metered as unidirectional flows with YAF's timeouts.
func ExampleTable() {
	var sink flow.SliceSink
	tab, err := flow.NewTable(flow.TableConfig{Timeouts: timeouts.Default(), Sink: &sink})
	if err != nil {
		panic(err)
	}
	a, b := flow.AddrFromUint32(0x0a000001), flow.AddrFromUint32(0xc0000219)
	t0 := time.Date(2026, 1, 1, 8, 0, 0, 0, time.UTC).UnixNano()
	ms := int64(time.Millisecond)
	pkt := func(at int64, fwd bool, flags flow.TCPFlags, n uint32) flow.Packet {
		p := flow.Packet{Time: t0 + at*ms, Src: a, Dst: b, SrcPort: 35000, DstPort: 25, Protocol: flow.ProtoTCP, Flags: flags, Length: n}
		if !fwd {
			p.Src, p.Dst, p.SrcPort, p.DstPort = b, a, 25, 35000
		}
		return p
	}
	err = tab.Add([]flow.Packet{
		pkt(0, true, flow.SYN, 60), pkt(1, false, flow.SYN|flow.ACK, 60), pkt(2, true, flow.ACK, 52),
		pkt(3, true, flow.PSH|flow.ACK, 1052), pkt(4, false, flow.FIN|flow.ACK, 52),
		pkt(5, true, flow.FIN|flow.ACK, 52), pkt(6, false, flow.ACK, 52),
	})
	if err != nil {
		panic(err)
	}
	// Ten seconds later the closing flows are past their 5 s grace.
	tab.Advance(t0 + 10*int64(time.Second))
	for _, r := range sink.Recs {
		fmt.Printf("%s:%d -> %s:%d %d pkts %d bytes initial %v session %v end %v\n",
			r.SrcAddr(), r.SrcPort, r.DstAddr(), r.DstPort, r.Packets, r.Bytes, r.InitialFlags, r.SessionFlags, r.EndReason)
	}
	st := tab.Stats()
	fmt.Println("active flows:", st.ActiveFlows, "records:", st.Flows())
	tab.Close()
	// Output:
	// 10.0.0.1:35000 -> 192.0.2.25:25 4 pkts 1216 bytes initial S session FPA end eof
	// 192.0.2.25:25 -> 10.0.0.1:35000 3 pkts 164 bytes initial SA session FA end eof
	// active flows: 0 records: 2
}
