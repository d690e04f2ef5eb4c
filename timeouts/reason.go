package timeouts

// Reason says why a flow ended. The values are those of the IPFIX
// flowEndReason information element (RFC 5102, IE 136), the same as
// flow.EndReason, so a table converts with a plain type conversion.
type Reason uint8

// End reasons that the Tracker hands out, plus Forced for end of input.
const (
	None      Reason = 0 // not ended
	Idle      Reason = 1 // idle timeout
	Active    Reason = 2 // active timeout
	EndOfFlow Reason = 3 // TCP FIN both ways or RST, after the grace period
	Forced    Reason = 4 // end of input or shutdown
	Resources Reason = 5 // evicted to respect MaxFlows
)

var reasonNames = [...]string{"none", "idle", "active", "eof", "forced", "resource"}

// String returns a short name (idle, active, eof, forced, resource).
func (r Reason) String() string {
	if int(r) < len(reasonNames) {
		return reasonNames[r]
	}
	return "reason?"
}
