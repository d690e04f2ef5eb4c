// Package timeouts decides when a flow ends, and keeps the bookkeeping that
// lets a flow table find those flows without scanning itself.
//
// The semantics are YAF's and are shared by the flow table, the
// synthesizer's ground truth and this package (flowkit's metering
// contract):
//
//   - Time comes from packet timestamps. The clock is the largest timestamp
//     seen so far; a live source also advances it from the wall clock when
//     the wire is quiet. Before a packet with time t is added, the clock
//     advances to t and every flow that has expired at that clock ends
//     first, so the packet may start a new flow.
//   - At clock T a flow has expired when
//     (1) it is closing since c and T-c > Grace (end of flow),
//     (2) T-End > Idle (idle timeout), or
//     (3) T-Start >= Active (active timeout; the next packet of the key
//     starts a new, continuing flow).
//     A flow that qualifies for several reasons takes the first in that
//     order: closing, idle, active.
//   - TCP: FIN seen in both directions, or an RST, marks a flow closing.
//     Packets that arrive while T-c <= Grace still join it (the last ACK, a
//     retransmitted RST); after Grace it ends and a later packet of the same
//     key starts a new flow.
//   - MaxFlows > 0 caps the concurrent flows: before a flow that would
//     exceed it is created, the least recently seen flow (smallest End) ends
//     with "lack of resources".
//   - End of input ends every remaining flow as forced.
//
// [Tracker] implements the expiry bookkeeping over int32 slot numbers (the
// table's entry indexes; the table numbers new ones, and takes ended ones
// back from [Tracker.Free]): an LRU list ordered by last-seen
// time (idle timeout and resource eviction), a list ordered by start time
// (active timeout) and a FIFO of closing flows ordered by closing time.
// Every operation is O(1) (amortized), the structures hold no pointers, and
// the package does not depend on the flow package: reasons are [Reason]
// values numbered like IPFIX flowEndReason, as flow.EndReason is.
package timeouts
