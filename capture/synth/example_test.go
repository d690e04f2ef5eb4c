package synth_test

import (
	"bytes"
	"fmt"

	"github.com/flowkit/flowkit/capture/synth"
)

// Generate one scenario, write its pcap and list the flows a meter must
// produce from it. Alone, the last session is still open when the capture
// ends (forced); with the other scenarios the clock moves on and it ends by
// its FINs.
func ExampleGenerate() {
	tr, err := synth.Generate(synth.Config{Seed: 1, Scenarios: []string{"smtp"}})
	if err != nil {
		panic(err)
	}
	var pcap bytes.Buffer
	if err := tr.WritePcap(&pcap); err != nil {
		panic(err)
	}
	fmt.Println(tr.Len(), "packets")
	for _, r := range tr.Truth() {
		fmt.Printf("%s:%d -> %s:%d %d pkts flags %-4s end %v\n", r.SrcAddr(), r.SrcPort, r.DstAddr(), r.DstPort,
			r.Packets, r.Flags, r.EndReason)
	}
	// Output:
	// 154 packets
	// 10.0.1.10:35000 -> 192.0.2.25:25 70 pkts flags FSPA end eof
	// 192.0.2.25:25 -> 10.0.1.10:35000 69 pkts flags FSPA end eof
	// 192.0.2.25:25 -> 10.0.1.10:35000 1 pkts flags R    end eof
	// 10.0.1.10:35000 -> 192.0.2.25:25 1 pkts flags R    end eof
	// 10.0.1.10:35000 -> 198.51.100.25:25 1 pkts flags S    end eof
	// 198.51.100.25:25 -> 10.0.1.10:35000 1 pkts flags RA   end eof
	// 10.0.1.10:35000 -> 198.51.100.25:25 6 pkts flags FSPA end forced
	// 198.51.100.25:25 -> 10.0.1.10:35000 5 pkts flags FSPA end forced
}

// Stream a benchmark capture: a million packets over 200 000 concurrent
// flows, truncated to 128 bytes a frame.
func ExampleBulk() {
	b, err := synth.NewBulk(synth.BulkConfig{Seed: 1, Packets: 1000000, Flows: 200000, SnapLen: 128})
	if err != nil {
		panic(err)
	}
	var pcap bytes.Buffer // an *os.File in practice
	st, err := b.WritePcap(&pcap)
	if err != nil {
		panic(err)
	}
	fmt.Println(st.Packets, "packets,", pcap.Len() < 1000000*(16+128)+24)
	// Output: 1000000 packets, true
}
