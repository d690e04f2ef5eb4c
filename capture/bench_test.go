package capture

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"testing"

	"github.com/flowkit/flowkit/flow"
)

// BenchmarkDecode decodes a varied real corpus (TCP/UDP/ICMP over IPv4 and
// IPv6, fragments, QinQ, MPLS, PPPoE, tunnels); one op is one frame.
func BenchmarkDecode(b *testing.B) {
	frames := loadFrames(b, append([]string{"ndpi_1kxun.pcap"}, allocCorpus...)...)
	d := NewDecoder()
	var p flow.Packet
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		f := &frames[i%len(frames)]
		d.Decode(f.data, f.link, f.ts, &p)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "packets/s")
}

// BenchmarkReadFile reads whole captures from memory through NewReader in
// batches of flow.DefaultBatchSize: file parsing plus decoding. One op is
// one file; SetBytes gives the file throughput.
func BenchmarkReadFile(b *testing.B) {
	for _, c := range []struct{ name, file string }{
		{"pcap", "ndpi_1kxun.pcap"},
		{"pcapng", "ndpi_alexa-app.pcapng"},
		{"pcap.gz", "ndpi_1kxun.pcap"},
	} {
		b.Run(c.name, func(b *testing.B) {
			data, err := os.ReadFile(pcapPath(b, c.file))
			if err != nil {
				b.Fatal(err)
			}
			if c.name == "pcap.gz" {
				var gz bytes.Buffer
				w := gzip.NewWriter(&gz)
				w.Write(data)
				w.Close()
				data = gz.Bytes()
			}
			buf := make([]flow.Packet, flow.DefaultBatchSize)
			var packets uint64
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				src, err := NewReader(bytes.NewReader(data))
				if err != nil {
					b.Fatal(err)
				}
				for {
					_, err := src.ReadPackets(buf)
					if err == io.EOF {
						break
					}
					if err != nil {
						b.Fatal(err)
					}
				}
				packets += src.Stats().Packets
			}
			b.ReportMetric(float64(packets)/b.Elapsed().Seconds(), "packets/s")
		})
	}
}
