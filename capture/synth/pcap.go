package synth

import (
	"bufio"
	"fmt"
	"io"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// pcapWriter writes frames to a classic pcap stream with the chosen
// resolution and snap length.
type pcapWriter struct {
	bw   *bufio.Writer
	w    *pcapgo.Writer
	snap int
}

func newPcapWriter(w io.Writer, nanosecond bool, snap int) (*pcapWriter, error) {
	bw := bufio.NewWriterSize(w, 1<<20)
	pw := &pcapWriter{bw: bw, snap: snapLen(snap)}
	if nanosecond {
		pw.w = pcapgo.NewWriterNanos(bw)
	} else {
		pw.w = pcapgo.NewWriter(bw)
	}
	if err := pw.w.WriteFileHeader(uint32(pw.snap), layers.LinkTypeEthernet); err != nil {
		return nil, fmt.Errorf("synth: pcap header: %w", err)
	}
	return pw, nil
}

// write writes one frame captured at t (ns), truncated to the snap length.
func (pw *pcapWriter) write(t int64, frame []byte) error {
	ci := gopacket.CaptureInfo{Timestamp: time.Unix(0, t), Length: len(frame), CaptureLength: len(frame)}
	if len(frame) > pw.snap {
		frame = frame[:pw.snap]
		ci.CaptureLength = pw.snap
	}
	return pw.w.WritePacket(ci, frame)
}

func (pw *pcapWriter) flush() error { return pw.bw.Flush() }

// WritePcap writes the capture as a classic pcap stream (Ethernet link
// type; microsecond or nanosecond timestamps and snap length as configured).
func (tr *Traffic) WritePcap(w io.Writer) error {
	pw, err := newPcapWriter(w, tr.cfg.Nanosecond, tr.cfg.SnapLen)
	if err != nil {
		return err
	}
	enc := newEncoder()
	for i := range tr.pkts {
		frame, err := enc.encode(&tr.pkts[i])
		if err != nil {
			return fmt.Errorf("synth: packet %d: %w", i, err)
		}
		if err := pw.write(tr.pkts[i].t, frame); err != nil {
			return fmt.Errorf("synth: packet %d: %w", i, err)
		}
	}
	return pw.flush()
}
