package capture_test

import (
	"fmt"
	"log"
	"time"

	"github.com/flowkit/flowkit/capture"
	"github.com/flowkit/flowkit/flow"
)

// Read a capture file (pcap or pcapng, gzip or not) and print each packet.
func ExampleOpenFile() {
	src, err := capture.OpenFile("../../shared/data/pcap/zeek_tcp_syn-then-ack-then-rst.pcap")
	if err != nil {
		log.Fatal(err)
	}
	defer src.Close()
	var readErr error
	for p := range capture.Packets(src, &readErr) {
		fmt.Printf("%s %s:%d > %s:%d proto %d len %d flags %s\n",
			time.Unix(0, p.Time).UTC().Format("15:04:05.000000"), p.Src, p.SrcPort, p.Dst, p.DstPort,
			p.Protocol, p.Length, p.Flags)
	}
	if readErr != nil {
		log.Fatal(readErr) // a *capture.FileError naming the offset
	}
	st := src.Stats()
	fmt.Println("frames", st.Packets, "decoded", st.Decoded)
	// Output:
	// 23:07:43.985132 1.1.1.1:13131 > 1.1.1.2:31313 proto 6 len 40 flags S
	// 23:07:43.985441 1.1.1.2:31313 > 1.1.1.1:13131 proto 6 len 40 flags A
	// 23:07:43.985593 1.1.1.1:13131 > 1.1.1.2:31313 proto 6 len 40 flags R
	// frames 3 decoded 3
}

// Capture on an interface, in batches; a quiet wire returns (0, nil) every
// PollTimeout so a flow meter can still expire flows.
func ExampleOpenLive() {
	src, err := capture.OpenLive("eth0", capture.LiveConfig{SnapLen: 128, PollTimeout: 200 * time.Millisecond})
	if err != nil {
		log.Fatal(err)
	}
	defer src.Close()
	batch := make([]flow.Packet, flow.DefaultBatchSize)
	for {
		n, err := src.ReadPackets(batch)
		if err != nil {
			log.Fatal(err)
		}
		for _, p := range batch[:n] {
			_ = p.Key(1) // hand the packet to a flow table
		}
		if st := src.Stats(); st.KernelDrops > 0 {
			log.Printf("kernel dropped %d packets", st.KernelDrops)
		}
	}
}
