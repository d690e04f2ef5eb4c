package synth

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"time"

	"github.com/flowkit/flowkit/flow"
)

// flowState is one ground-truth flow under construction.
type flowState struct {
	idx        int32 // index in the builder's flows
	rec        flow.Record
	closing    int64 // when the flow was marked closing, if hasClosing
	hasClosing bool
}

// expired reports whether the metering contract ends f at clock t.
func (f *flowState) expired(t int64) bool {
	if f.hasClosing && t-f.closing > int64(Grace) {
		return true
	}
	return t-f.rec.End > int64(Idle) || t-f.rec.Start >= int64(Active)
}

// builder collects one scenario's packets and its flow bookkeeping. The
// scenario decides which flow every packet belongs to (a nil handle starts
// a new flow) and when flows are marked closing; the builder sums the
// records and refuses bookkeeping that breaks the metering rules.
type builder struct {
	name    string
	base    int64 // start of the day, ns
	quantum int64 // timestamp resolution, ns
	rng     *rand.Rand
	pkts    []packet
	flows   []*flowState
	latest  map[flow.Key]*flowState // newest flow of each key, for the self-check
	err     error
}

func newBuilder(name string, cfg *Config) *builder {
	return &builder{
		name:    name,
		base:    cfg.start().UnixNano(),
		quantum: cfg.quantum(),
		rng:     rand.New(rand.NewPCG(cfg.Seed, nameSeed(name))),
		latest:  make(map[flow.Key]*flowState),
	}
}

// nameSeed is FNV-1a of the scenario name: each scenario its own stream.
func nameSeed(name string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(name); i++ {
		h ^= uint64(name[i])
		h *= 1099511628211
	}
	return h
}

// at returns the rounded absolute time of an offset from the day start.
func (b *builder) at(off time.Duration) int64 {
	t := b.base + int64(off)
	return t - t%b.quantum
}

// later returns t plus d, rounded to the resolution (at least one quantum
// later when d > 0, so that an order the scenario intends survives rounding).
func (b *builder) later(t int64, d time.Duration) int64 {
	n := t + int64(d)
	n -= n % b.quantum
	if d > 0 && n <= t {
		n = t + b.quantum
	}
	return n
}

// uniform returns a duration drawn uniformly from [lo, hi).
func (b *builder) uniform(lo, hi time.Duration) time.Duration {
	if hi <= lo {
		return lo
	}
	return lo + time.Duration(b.rng.Int64N(int64(hi-lo)))
}

// intn returns a number in [lo, hi].
func (b *builder) intn(lo, hi int) int { return lo + b.rng.IntN(hi-lo+1) }

func (b *builder) fail(format string, args ...any) {
	if b.err == nil {
		b.err = fmt.Errorf("synth: scenario %s: bookkeeping error: "+format, append([]any{b.name}, args...)...)
	}
}

// emit adds p to the flow *fp, starting a new flow when *fp is nil or when
// the active timeout has ended *fp by p's time.
func (b *builder) emit(fp **flowState, p packet) {
	k := p.key()
	f := *fp
	if f != nil && p.t-f.rec.Start >= int64(Active) {
		// A long flow rolls over: the active timeout ended it, this packet
		// starts the continuing flow.
		f = nil
	}
	if f == nil {
		if prev := b.latest[k]; prev != nil && !prev.expired(p.t) {
			b.fail("packet at %v starts a new flow of %v but the previous flow has not ended", time.Unix(0, p.t).UTC(), &prev.rec)
		}
		f = &flowState{idx: int32(len(b.flows)), rec: flow.Record{Start: p.t, End: p.t, Src: p.src, Dst: p.dst,
			SrcPort: p.sport, DstPort: p.dport, Protocol: p.proto, VLAN: p.vlan,
			InitialFlags: p.flags}}
		b.flows = append(b.flows, f)
		b.latest[k] = f
		*fp = f
	} else {
		if f.rec.Key() != k {
			b.fail("packet %v added to the flow of another key", k)
		}
		if p.t < f.rec.End {
			b.fail("packet at %v is older than its flow's last packet", time.Unix(0, p.t).UTC())
		}
		if f.expired(p.t) {
			b.fail("packet at %v joins a flow that has already ended: %v", time.Unix(0, p.t).UTC(), &f.rec)
		}
		f.rec.SessionFlags |= p.flags
		f.rec.End = p.t
	}
	f.rec.Flags |= p.flags
	f.rec.Packets++
	f.rec.Bytes += uint64(p.ipLen)
	p.flow = f.idx
	b.pkts = append(b.pkts, p)
}

// markClosing marks flows closing at t (both FINs seen, or an RST). A nil
// flow (no current flow in that direction) is skipped.
func (b *builder) markClosing(t int64, flows ...*flowState) {
	for _, f := range flows {
		if f == nil {
			continue
		}
		if f.hasClosing {
			b.fail("flow %v is marked closing twice", &f.rec)
		}
		if f.expired(t) {
			b.fail("flow %v is marked closing after it ended", &f.rec)
		}
		f.hasClosing, f.closing = true, t
	}
}

// addr parses a fixed scenario address.
func addr(s string) flow.Addr { return flow.AddrFrom(netip.MustParseAddr(s)) }

// udp emits a UDP packet with payload bytes of data into flow *fp.
func (b *builder) udp(fp **flowState, t int64, src, dst flow.Addr, sport, dport uint16, vlan uint16, payload int) {
	b.emit(fp, packet{t: t, src: src, dst: dst, sport: sport, dport: dport, vlan: vlan,
		proto: flow.ProtoUDP, ipLen: uint16(ipHeaderLen(src) + udpHeader + payload), ipID: uint16(b.rng.Uint32())})
}

// icmpEcho emits an ICMP echo request (type 8 code 0) of the given IP length.
func (b *builder) icmpEcho(fp **flowState, t int64, src, dst flow.Addr, seq uint32, ipLen int) {
	b.emit(fp, packet{t: t, src: src, dst: dst, dport: 8 << 8, proto: flow.ProtoICMP,
		ipLen: uint16(ipLen), seq: seq, ipID: uint16(b.rng.Uint32())})
}

// tcpConn is one TCP connection: its client and server endpoints, the
// current flow of each direction and the sequence numbers.
type tcpConn struct {
	b            *builder
	cli, srv     flow.Addr
	cport, sport uint16
	vlan         uint16
	fwd, rev     *flowState // current client->server and server->client flows
	cseq, sseq   uint32
}

func (b *builder) tcp(cli string, cport uint16, srv string, sport uint16, vlan uint16) *tcpConn {
	return &tcpConn{b: b, cli: addr(cli), srv: addr(srv), cport: cport, sport: sport, vlan: vlan,
		cseq: b.rng.Uint32(), sseq: b.rng.Uint32()}
}

func (c *tcpConn) send(fromClient bool, t int64, flags flow.TCPFlags, payload int) {
	p := packet{t: t, proto: flow.ProtoTCP, flags: flags, vlan: c.vlan,
		ipLen: uint16(ipHeaderLen(c.cli) + tcpHeader + payload), ipID: uint16(c.b.rng.Uint32())}
	seq, ack := &c.cseq, &c.sseq
	fp := &c.fwd
	p.src, p.dst, p.sport, p.dport = c.cli, c.srv, c.cport, c.sport
	if !fromClient {
		seq, ack = &c.sseq, &c.cseq
		fp = &c.rev
		p.src, p.dst, p.sport, p.dport = c.srv, c.cli, c.sport, c.cport
	}
	p.seq = *seq
	if flags&flow.ACK != 0 {
		p.ack = *ack
	}
	*seq += uint32(payload)
	if flags&(flow.SYN|flow.FIN) != 0 {
		*seq++
	}
	c.b.emit(fp, p)
}

// c2s sends a client-to-server segment; s2c the reverse.
func (c *tcpConn) c2s(t int64, flags flow.TCPFlags, payload int) { c.send(true, t, flags, payload) }
func (c *tcpConn) s2c(t int64, flags flow.TCPFlags, payload int) { c.send(false, t, flags, payload) }

// rtt draws a round-trip time for the connection's next exchange.
func (c *tcpConn) rtt() time.Duration { return c.b.uniform(15*time.Millisecond, 60*time.Millisecond) }

// handshake sends SYN, SYN-ACK, ACK from t and returns the time of the ACK.
func (c *tcpConn) handshake(t int64) int64 {
	c.c2s(t, flow.SYN, 0)
	t = c.b.later(t, c.rtt())
	c.s2c(t, flow.SYN|flow.ACK, 0)
	t = c.b.later(t, c.rtt())
	c.c2s(t, flow.ACK, 0)
	return t
}

// finish closes the connection normally from t: client FIN-ACK, server
// FIN-ACK (both flows now closing), then the client's last ACK, which joins
// the closing flow. It returns the time of the last ACK.
func (c *tcpConn) finish(t int64) int64 {
	c.c2s(t, flow.FIN|flow.ACK, 0)
	t = c.b.later(t, c.rtt())
	c.s2c(t, flow.FIN|flow.ACK, 0)
	c.b.markClosing(t, c.fwd, c.rev)
	t = c.b.later(t, c.rtt())
	c.c2s(t, flow.ACK, 0)
	return t
}

// reset sends an RST (with the given flags) at t: it marks its own flow
// closing, and the reverse flow too if that one has not ended by t.
func (c *tcpConn) reset(fromClient bool, t int64, flags flow.TCPFlags) {
	c.send(fromClient, t, flags|flow.RST, 0)
	own, other := c.fwd, c.rev
	if !fromClient {
		own, other = c.rev, c.fwd
	}
	c.b.markClosing(t, own)
	if other != nil && !other.expired(t) {
		c.b.markClosing(t, other)
	}
}

// restart forgets the current flows: the next packets in either direction
// start new flows (a new session on the same ports).
func (c *tcpConn) restart() { c.fwd, c.rev = nil, nil }
