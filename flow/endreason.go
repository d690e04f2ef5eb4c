package flow

import (
	"fmt"
	"strconv"
)

// EndReason says why a flow record ended, with the values of the IPFIX
// flowEndReason information element (RFC 5102, IE 136).
type EndReason uint8

// Flow end reasons. EndUnknown is what records from sources that do not say
// (NetFlow v5, text files without the column) carry.
const (
	EndUnknown         EndReason = 0
	EndIdleTimeout     EndReason = 1 // no packet for the idle timeout
	EndActiveTimeout   EndReason = 2 // the flow lasted the active timeout; it continues in a new record
	EndOfFlow          EndReason = 3 // TCP FIN in both directions, or RST
	EndForced          EndReason = 4 // end of input or shutdown
	EndLackOfResources EndReason = 5 // evicted to keep the table within its limit
)

var endReasonNames = [...]string{"unknown", "idle", "active", "eof", "forced", "resource"}

// String returns a short name: idle, active, eof, forced, resource or unknown.
func (e EndReason) String() string {
	if int(e) < len(endReasonNames) {
		return endReasonNames[e]
	}
	return fmt.Sprintf("reason%d", uint8(e))
}

// ParseEndReason reads a name that String returns or a decimal value.
func ParseEndReason(s string) (EndReason, error) {
	for i, n := range endReasonNames {
		if s == n {
			return EndReason(i), nil
		}
	}
	if v, err := strconv.ParseUint(s, 10, 8); err == nil {
		return EndReason(v), nil
	}
	return 0, fmt.Errorf("flow: end reason %q: want one of %v or a number", s, endReasonNames)
}
