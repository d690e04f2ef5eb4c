package detect

import "github.com/flowkit/flowkit/flow"

// outcome is what a record says about a first contact, in TRW's terms.
type outcome uint8

const (
	notContact outcome = iota // a reply, a mid-session record, or a protocol we do not judge
	success                   // the target answered
	failure                   // no answer, a refusal, or a probe no client sends
	stealth                   // a TCP probe with flags no client sends (NULL, FIN, Xmas): a failure, and evidence by itself
)

// classify judges record r as a contact from r.Src to r.Dst. r is a
// biflow when the reverse direction was seen (paired or metered that
// way), else a one-way record.
//
// TCP: a SYN answered by SYN-ACK is a success, unless the initiator then
// aborted with RST and no ACK (the half-open probe of a SYN scanner); a
// SYN answered by RST, or not at all, is a failure. A one-way record that
// holds SYN and then ACK, or more than a handshake's packets, was
// answered. A record with neither SYN nor ACK (NULL, FIN, Xmas) is a
// stealth probe. Other records without SYN are mid-session continuations
// or replies and are not contacts, as is a one-way SYN-ACK (a server's
// half).
//
// UDP and other protocols: answered or not. ICMP: only queries (echo,
// timestamp...) are contacts; replies and errors are not.
func classify(r *flow.Record) outcome {
	switch r.Protocol {
	case flow.ProtoTCP:
		return classifyTCP(r)
	case flow.ProtoICMP, flow.ProtoICMPv6:
		if !isICMPQuery(r.Protocol, r.ICMPType()) {
			return notContact
		}
		if r.RevPackets > 0 {
			return success
		}
		return failure
	case flow.ProtoUDP:
		if r.RevPackets > 0 {
			return success
		}
		if r.SrcPort < 1024 && r.DstPort >= 1024 && r.SrcPort != 0 {
			// A service's one-way reply (DNS, NTP) whose query we missed.
			return notContact
		}
		return failure
	}
	return notContact
}

func classifyTCP(r *flow.Record) outcome {
	f := r.Flags
	if f&flow.SYN == 0 {
		if f&(flow.ACK|flow.RST) == 0 {
			return stealth
		}
		return notContact
	}
	if f&flow.ACK != 0 && r.InitialFlags&(flow.SYN|flow.ACK) == flow.SYN|flow.ACK {
		return notContact // a server's SYN-ACK side
	}
	if r.RevPackets > 0 {
		rf := r.RevFlags
		switch {
		case rf&flow.SYN != 0 && rf&flow.ACK != 0:
			if f&flow.RST != 0 && f&flow.ACK == 0 {
				return failure // half-open: SYN, SYN-ACK, RST
			}
			return success
		case rf&flow.RST != 0:
			return failure // refused
		case rf&flow.ACK != 0 || r.RevPackets > 1:
			return success
		}
		return failure
	}
	// One-way record.
	if f&flow.ACK != 0 {
		if r.InitialFlags == 0 && r.Packets <= 2 && f&flow.PSH == 0 {
			// Only the union is known: SYN-ACK retransmissions of a
			// server whose client record is missing look like this.
			return notContact
		}
		return success
	}
	if f&flow.FIN != 0 {
		return stealth // SYN+FIN without ACK: no stack sends that
	}
	return failure
}
