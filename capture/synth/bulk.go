package synth

import (
	"fmt"
	"io"
	"math/rand/v2"
	"time"

	"github.com/flowkit/flowkit/flow"
)

// BulkConfig shapes a bulk benchmark capture.
type BulkConfig struct {
	Seed  uint64    // random stream; the same config gives the same packets
	Start time.Time // first packet's time; zero means DefaultStart
	// Packets is the number of packets to produce (N).
	Packets int
	// Flows is the number of unidirectional flows open at any moment (M,
	// default 100000): M/2 conversations, each a flow in each direction.
	// A finished conversation is replaced by a new one with a new key.
	Flows int
	// TCPPercent is the share of TCP conversations (default 80); the rest
	// are UDP.
	TCPPercent int
	// MeanPackets is the mean length of a conversation in packets, both
	// directions together (default 40; lengths are uniform in
	// [4, 2*MeanPackets-4]).
	MeanPackets int
	// Rate is packets per second of capture time (default 1e6): the
	// packets are evenly spaced.
	Rate float64
	// SnapLen truncates captured frames (0: whole frames; 128 is typical
	// for benchmarks). The IP length is never truncated.
	SnapLen int
	// Nanosecond writes nanosecond pcap timestamps (times are rounded to
	// microseconds otherwise).
	Nanosecond bool
}

// BulkStats counts what a Bulk produced so far.
type BulkStats struct {
	Packets uint64 // packets produced
	Flows   uint64 // unidirectional flow keys started (two per conversation)
	Bytes   uint64 // IP-layer bytes
}

// Bulk generates IPv4 TCP and UDP packets over many concurrent
// conversations, one packet at a time, in constant memory. TCP
// conversations open with SYN, SYN-ACK and close with FIN in both
// directions; UDP conversations alternate requests and answers. Which
// conversation sends next is random (seeded), so every flow stays open for
// about Flows/Rate seconds between its packets, far below the idle timeout
// at the defaults.
type Bulk struct {
	cfg      BulkConfig
	rng      *rand.Rand
	convs    []bulkConv
	serial   uint32
	n        int
	start    int64
	interval float64
	quantum  int64
	stats    BulkStats
}

// bulkConv is one conversation slot.
type bulkConv struct {
	cli, srv     uint32
	cport, sport uint16
	proto        uint8
	left, sent   uint16 // packets still to send, packets sent
	cseq, sseq   uint32
}

var (
	bulkTCPPorts = [...]uint16{80, 443, 443, 443, 22, 25, 8080, 993}
	bulkUDPPorts = [...]uint16{53, 53, 123, 500, 514, 4500, 161, 1194}
)

// NewBulk validates cfg, fills its defaults and returns a generator.
func NewBulk(cfg BulkConfig) (*Bulk, error) {
	if cfg.Packets < 0 || cfg.Flows < 0 || cfg.MeanPackets < 0 || cfg.Rate < 0 || cfg.SnapLen < 0 {
		return nil, fmt.Errorf("synth: bulk config has a negative value: %+v", cfg)
	}
	if cfg.TCPPercent < 0 || cfg.TCPPercent > 100 {
		return nil, fmt.Errorf("synth: bulk TCPPercent %d outside 0-100", cfg.TCPPercent)
	}
	if cfg.Flows == 0 {
		cfg.Flows = 100000
	}
	if cfg.TCPPercent == 0 {
		cfg.TCPPercent = 80
	}
	if cfg.MeanPackets == 0 {
		cfg.MeanPackets = 40
	}
	cfg.MeanPackets = max(cfg.MeanPackets, 4)
	if cfg.Rate == 0 {
		cfg.Rate = 1e6
	}
	if cfg.Start.IsZero() {
		cfg.Start = DefaultStart
	}
	b := &Bulk{
		cfg:      cfg,
		rng:      rand.New(rand.NewPCG(cfg.Seed, nameSeed("bulk"))),
		convs:    make([]bulkConv, max(cfg.Flows/2, 1)),
		start:    cfg.Start.UnixNano(),
		interval: 1e9 / cfg.Rate,
		quantum:  1000,
	}
	if cfg.Nanosecond {
		b.quantum = 1
	}
	for i := range b.convs {
		b.newConv(&b.convs[i])
	}
	return b, nil
}

// newConv starts a new conversation with a key no other one has had (the
// client address counts conversations; the port varies when it wraps).
func (b *Bulk) newConv(c *bulkConv) {
	s := b.serial
	b.serial++
	r := b.rng.Uint64()
	*c = bulkConv{
		cli:   0x0a000000 | s&0xffffff,
		srv:   0xac100000 | uint32(r)&0x000fffff,
		cport: uint16(1024 + (s>>24)*4099 + uint32(r>>20)%4096),
		cseq:  uint32(r >> 32),
		sseq:  uint32(r>>16) ^ 0x5bd1e995,
	}
	span := 2*b.cfg.MeanPackets - 8
	c.left = uint16(4 + b.rng.IntN(span+1))
	if b.rng.IntN(100) < b.cfg.TCPPercent {
		c.proto = flow.ProtoTCP
		c.sport = bulkTCPPorts[r>>40&7]
	} else {
		c.proto = flow.ProtoUDP
		c.sport = bulkUDPPorts[r>>40&7]
	}
	b.stats.Flows += 2
}

// next fills p with the next packet; false when all packets are out.
func (b *Bulk) next(p *packet) bool {
	if b.n >= b.cfg.Packets {
		return false
	}
	t := b.start + int64(float64(b.n)*b.interval)
	t -= t % b.quantum
	b.n++
	c := &b.convs[b.rng.IntN(len(b.convs))]
	fromClient := c.sent%2 == 0
	*p = packet{t: t, proto: c.proto, src: flow.AddrFromUint32(c.cli), dst: flow.AddrFromUint32(c.srv),
		sport: c.cport, dport: c.sport, ipID: uint16(b.n)}
	if !fromClient {
		p.src, p.dst, p.sport, p.dport = p.dst, p.src, p.dport, p.sport
	}
	size := uint32(b.rng.Uint64())
	if c.proto == flow.ProtoTCP {
		payload := 0
		switch {
		case c.sent == 0:
			p.flags = flow.SYN
		case c.sent == 1:
			p.flags = flow.SYN | flow.ACK
		case c.left <= 2:
			p.flags = flow.FIN | flow.ACK
		case fromClient:
			p.flags = flow.ACK
			if size%4 == 0 {
				p.flags |= flow.PSH
				payload = int(size>>8) % 600
			}
		default:
			p.flags = flow.ACK
			payload = 1460
			if size%8 == 0 {
				p.flags |= flow.PSH
				payload = int(size>>8) % 1460
			}
		}
		seq, ack := &c.cseq, &c.sseq
		if !fromClient {
			seq, ack = ack, seq
		}
		p.seq, p.ack = *seq, *ack
		*seq += uint32(payload)
		if p.flags&(flow.SYN|flow.FIN) != 0 {
			*seq++
		}
		p.ipLen = uint16(ipv4Header + tcpHeader + payload)
	} else {
		p.ipLen = uint16(ipv4Header + udpHeader + 16 + int(size>>8)%1200)
	}
	b.stats.Packets++
	b.stats.Bytes += uint64(p.ipLen)
	c.sent++
	c.left--
	if c.left == 0 {
		b.newConv(c)
	}
	return true
}

// Next fills p with the next packet's decoded summary (as the capture
// decoder would produce it) and reports whether there was one.
func (b *Bulk) Next(p *flow.Packet) bool {
	var q packet
	if !b.next(&q) {
		return false
	}
	q.summary(p)
	return true
}

// Stats returns what the generator has produced so far.
func (b *Bulk) Stats() BulkStats { return b.stats }

// WritePcap writes the remaining packets to w as a pcap stream (Ethernet,
// the configured resolution and snap length), streaming: memory stays
// constant whatever the number of packets.
func (b *Bulk) WritePcap(w io.Writer) (BulkStats, error) {
	pw, err := newPcapWriter(w, b.cfg.Nanosecond, b.cfg.SnapLen)
	if err != nil {
		return b.stats, err
	}
	enc := newEncoder()
	var p packet
	for b.next(&p) {
		frame, err := enc.encode(&p)
		if err != nil {
			return b.stats, fmt.Errorf("synth: bulk packet %d: %w", b.n, err)
		}
		if err := pw.write(p.t, frame); err != nil {
			return b.stats, fmt.Errorf("synth: bulk packet %d: %w", b.n, err)
		}
	}
	return b.stats, pw.flush()
}

// BulkPackets returns all cfg.Packets decoded packet summaries at once, for
// benchmarks of the flow table that skip pcap decoding.
func BulkPackets(cfg BulkConfig) ([]flow.Packet, BulkStats, error) {
	b, err := NewBulk(cfg)
	if err != nil {
		return nil, BulkStats{}, err
	}
	out := make([]flow.Packet, 0, b.cfg.Packets)
	var p flow.Packet
	for b.Next(&p) {
		out = append(out, p)
	}
	return out, b.stats, nil
}
