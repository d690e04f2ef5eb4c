package flow

import "fmt"

// FlowType is SiLK's class/type of a flow relative to the monitored network,
// set by a classifier (for example prefix lists of the internal network).
type FlowType uint8

// Flow types. TypeUnknown is the value before any classifier ran.
const (
	TypeUnknown  FlowType = 0
	TypeIn       FlowType = 1 // from outside to inside
	TypeOut      FlowType = 2 // from inside to outside
	TypeInternal FlowType = 3 // inside to inside
	TypeExternal FlowType = 4 // outside to outside (transit)
)

var flowTypeNames = [...]string{"unknown", "in", "out", "int", "ext"}

// String returns SiLK's short type name: in, out, int, ext or unknown.
func (t FlowType) String() string {
	if int(t) < len(flowTypeNames) {
		return flowTypeNames[t]
	}
	return fmt.Sprintf("type%d", uint8(t))
}

// ParseFlowType reads a name that String returns (also "internal" and
// "external").
func ParseFlowType(s string) (FlowType, error) {
	switch s {
	case "internal":
		return TypeInternal, nil
	case "external":
		return TypeExternal, nil
	}
	for i, n := range flowTypeNames {
		if s == n {
			return FlowType(i), nil
		}
	}
	return 0, fmt.Errorf("flow: flow type %q: want one of in, out, int, ext, unknown", s)
}
