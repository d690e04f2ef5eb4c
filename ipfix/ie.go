package ipfix

import (
	"fmt"
	"sync"
)

// Private enterprise numbers flowkit knows.
const (
	PENIANA   = 0     // IANA-registered elements have no enterprise number
	PENCERT   = 6871  // CERT/CMU (YAF, SiLK)
	PENBiflow = 29305 // RFC 5103 reverse elements: same ID as the forward one
)

// CERTReverse is the bit CERT sets in a PEN 6871 element ID to name the
// reverse direction of its own elements (initialTCPFlags 14 -> 16398).
const CERTReverse = 0x4000

// VarLen is the field length that marks a variable-length field in a
// template (RFC 7011 section 7).
const VarLen = 0xffff

// DataType is an information element's abstract data type (RFC 7012).
type DataType uint8

// Data types of RFC 7012 and RFC 6313.
const (
	OctetArray DataType = iota
	Unsigned8
	Unsigned16
	Unsigned32
	Unsigned64
	Signed8
	Signed16
	Signed32
	Signed64
	Float32
	Float64
	Boolean
	MACAddress
	String
	DateTimeSeconds
	DateTimeMilliseconds
	DateTimeMicroseconds
	DateTimeNanoseconds
	IPv4Address
	IPv6Address
	BasicList            // RFC 6313: kept as raw bytes
	SubTemplateList      // RFC 6313: kept as raw bytes
	SubTemplateMultiList // RFC 6313: kept as raw bytes
)

var dataTypeNames = [...]string{"octetArray", "unsigned8", "unsigned16", "unsigned32", "unsigned64",
	"signed8", "signed16", "signed32", "signed64", "float32", "float64", "boolean", "macAddress",
	"string", "dateTimeSeconds", "dateTimeMilliseconds", "dateTimeMicroseconds",
	"dateTimeNanoseconds", "ipv4Address", "ipv6Address", "basicList", "subTemplateList",
	"subTemplateMultiList"}

// String returns the RFC 7012 name of the type.
func (t DataType) String() string {
	if int(t) < len(dataTypeNames) {
		return dataTypeNames[t]
	}
	return fmt.Sprintf("type%d", uint8(t))
}

// IE describes one information element.
type IE struct {
	Enterprise uint32 // private enterprise number, 0 for IANA
	ID         uint16 // element id, without the enterprise bit
	Name       string
	Type       DataType
}

// ieKey identifies an element across enterprises.
type ieKey struct {
	pen uint32
	id  uint16
}

var registry = struct {
	sync.RWMutex
	m map[ieKey]IE
}{m: map[ieKey]IE{}}

// Register adds or replaces an information element, typically an
// enterprise-specific one of the caller's own. Decoders look the element
// up when they compile a template, so register before decoding.
// Registering does not make Decode map the element into flow.Record; its
// values reach the caller through Decoder.OnField.
func Register(ie IE) {
	registry.Lock()
	registry.m[ieKey{ie.Enterprise, ie.ID}] = ie
	registry.Unlock()
}

// Lookup returns the registered element with that enterprise number and
// id. For PEN 29305 (RFC 5103) it derives the reverse element's name from
// the forward IANA one ("reverseOctetDeltaCount").
func Lookup(enterprise uint32, id uint16) (IE, bool) {
	registry.RLock()
	ie, ok := registry.m[ieKey{enterprise, id}]
	registry.RUnlock()
	if ok {
		return ie, true
	}
	if enterprise == PENBiflow {
		if fwd, ok := Lookup(0, id); ok {
			return IE{Enterprise: PENBiflow, ID: id, Name: reverseName(fwd.Name), Type: fwd.Type}, true
		}
	}
	if enterprise == PENCERT && id&CERTReverse != 0 {
		if fwd, ok := Lookup(PENCERT, id&^CERTReverse); ok {
			return IE{Enterprise: PENCERT, ID: id, Name: reverseName(fwd.Name), Type: fwd.Type}, true
		}
	}
	return IE{}, false
}

func reverseName(n string) string {
	if n == "" {
		return "reverse"
	}
	b := []byte(n)
	if b[0] >= 'a' && b[0] <= 'z' {
		b[0] -= 'a' - 'A'
	}
	return "reverse" + string(b)
}

func init() {
	for _, ie := range ianaElements {
		registry.m[ieKey{0, ie.ID}] = ie
	}
	for _, ie := range certElements {
		ie.Enterprise = PENCERT
		registry.m[ieKey{PENCERT, ie.ID}] = ie
	}
}

// ianaElements are the IANA elements that flow meters commonly export.
var ianaElements = []IE{
	{ID: 1, Name: "octetDeltaCount", Type: Unsigned64},
	{ID: 2, Name: "packetDeltaCount", Type: Unsigned64},
	{ID: 3, Name: "deltaFlowCount", Type: Unsigned64},
	{ID: 4, Name: "protocolIdentifier", Type: Unsigned8},
	{ID: 5, Name: "ipClassOfService", Type: Unsigned8},
	{ID: 6, Name: "tcpControlBits", Type: Unsigned16},
	{ID: 7, Name: "sourceTransportPort", Type: Unsigned16},
	{ID: 8, Name: "sourceIPv4Address", Type: IPv4Address},
	{ID: 9, Name: "sourceIPv4PrefixLength", Type: Unsigned8},
	{ID: 10, Name: "ingressInterface", Type: Unsigned32},
	{ID: 11, Name: "destinationTransportPort", Type: Unsigned16},
	{ID: 12, Name: "destinationIPv4Address", Type: IPv4Address},
	{ID: 13, Name: "destinationIPv4PrefixLength", Type: Unsigned8},
	{ID: 14, Name: "egressInterface", Type: Unsigned32},
	{ID: 15, Name: "ipNextHopIPv4Address", Type: IPv4Address},
	{ID: 16, Name: "bgpSourceAsNumber", Type: Unsigned32},
	{ID: 17, Name: "bgpDestinationAsNumber", Type: Unsigned32},
	{ID: 18, Name: "bgpNextHopIPv4Address", Type: IPv4Address},
	{ID: 21, Name: "flowEndSysUpTime", Type: Unsigned32},
	{ID: 22, Name: "flowStartSysUpTime", Type: Unsigned32},
	{ID: 23, Name: "postOctetDeltaCount", Type: Unsigned64},
	{ID: 24, Name: "postPacketDeltaCount", Type: Unsigned64},
	{ID: 27, Name: "sourceIPv6Address", Type: IPv6Address},
	{ID: 28, Name: "destinationIPv6Address", Type: IPv6Address},
	{ID: 29, Name: "sourceIPv6PrefixLength", Type: Unsigned8},
	{ID: 30, Name: "destinationIPv6PrefixLength", Type: Unsigned8},
	{ID: 31, Name: "flowLabelIPv6", Type: Unsigned32},
	{ID: 32, Name: "icmpTypeCodeIPv4", Type: Unsigned16},
	{ID: 34, Name: "samplingInterval", Type: Unsigned32},
	{ID: 35, Name: "samplingAlgorithm", Type: Unsigned8},
	{ID: 48, Name: "samplerId", Type: Unsigned8},
	{ID: 52, Name: "minimumTTL", Type: Unsigned8},
	{ID: 53, Name: "maximumTTL", Type: Unsigned8},
	{ID: 56, Name: "sourceMacAddress", Type: MACAddress},
	{ID: 57, Name: "postDestinationMacAddress", Type: MACAddress},
	{ID: 58, Name: "vlanId", Type: Unsigned16},
	{ID: 59, Name: "postVlanId", Type: Unsigned16},
	{ID: 60, Name: "ipVersion", Type: Unsigned8},
	{ID: 61, Name: "flowDirection", Type: Unsigned8},
	{ID: 62, Name: "ipNextHopIPv6Address", Type: IPv6Address},
	{ID: 63, Name: "bgpNextHopIPv6Address", Type: IPv6Address},
	{ID: 70, Name: "mplsTopLabelStackSection", Type: OctetArray},
	{ID: 80, Name: "destinationMacAddress", Type: MACAddress},
	{ID: 81, Name: "postSourceMacAddress", Type: MACAddress},
	{ID: 82, Name: "interfaceName", Type: String},
	{ID: 83, Name: "interfaceDescription", Type: String},
	{ID: 85, Name: "octetTotalCount", Type: Unsigned64},
	{ID: 86, Name: "packetTotalCount", Type: Unsigned64},
	{ID: 89, Name: "forwardingStatus", Type: Unsigned32},
	{ID: 95, Name: "applicationId", Type: OctetArray},
	{ID: 96, Name: "applicationName", Type: String},
	{ID: 130, Name: "exporterIPv4Address", Type: IPv4Address},
	{ID: 131, Name: "exporterIPv6Address", Type: IPv6Address},
	{ID: 136, Name: "flowEndReason", Type: Unsigned8},
	{ID: 138, Name: "observationPointId", Type: Unsigned64},
	{ID: 139, Name: "icmpTypeCodeIPv6", Type: Unsigned16},
	{ID: 144, Name: "exportingProcessId", Type: Unsigned32},
	{ID: 148, Name: "flowId", Type: Unsigned64},
	{ID: 149, Name: "observationDomainId", Type: Unsigned32},
	{ID: 150, Name: "flowStartSeconds", Type: DateTimeSeconds},
	{ID: 151, Name: "flowEndSeconds", Type: DateTimeSeconds},
	{ID: 152, Name: "flowStartMilliseconds", Type: DateTimeMilliseconds},
	{ID: 153, Name: "flowEndMilliseconds", Type: DateTimeMilliseconds},
	{ID: 154, Name: "flowStartMicroseconds", Type: DateTimeMicroseconds},
	{ID: 155, Name: "flowEndMicroseconds", Type: DateTimeMicroseconds},
	{ID: 156, Name: "flowStartNanoseconds", Type: DateTimeNanoseconds},
	{ID: 157, Name: "flowEndNanoseconds", Type: DateTimeNanoseconds},
	{ID: 158, Name: "flowStartDeltaMicroseconds", Type: Unsigned32},
	{ID: 159, Name: "flowEndDeltaMicroseconds", Type: Unsigned32},
	{ID: 160, Name: "systemInitTimeMilliseconds", Type: DateTimeMilliseconds},
	{ID: 161, Name: "flowDurationMilliseconds", Type: Unsigned32},
	{ID: 162, Name: "flowDurationMicroseconds", Type: Unsigned32},
	{ID: 164, Name: "ignoredPacketTotalCount", Type: Unsigned64},
	{ID: 165, Name: "ignoredOctetTotalCount", Type: Unsigned64},
	{ID: 166, Name: "notSentFlowTotalCount", Type: Unsigned64},
	{ID: 167, Name: "notSentPacketTotalCount", Type: Unsigned64},
	{ID: 168, Name: "notSentOctetTotalCount", Type: Unsigned64},
	{ID: 176, Name: "icmpTypeIPv4", Type: Unsigned8},
	{ID: 177, Name: "icmpCodeIPv4", Type: Unsigned8},
	{ID: 178, Name: "icmpTypeIPv6", Type: Unsigned8},
	{ID: 179, Name: "icmpCodeIPv6", Type: Unsigned8},
	{ID: 192, Name: "ipTTL", Type: Unsigned8},
	{ID: 210, Name: "paddingOctets", Type: OctetArray},
	{ID: 225, Name: "postNATSourceIPv4Address", Type: IPv4Address},
	{ID: 226, Name: "postNATDestinationIPv4Address", Type: IPv4Address},
	{ID: 227, Name: "postNAPTSourceTransportPort", Type: Unsigned16},
	{ID: 228, Name: "postNAPTDestinationTransportPort", Type: Unsigned16},
	{ID: 231, Name: "initiatorOctets", Type: Unsigned64},
	{ID: 232, Name: "responderOctets", Type: Unsigned64},
	{ID: 233, Name: "firewallEvent", Type: Unsigned8},
	{ID: 234, Name: "ingressVRFID", Type: Unsigned32},
	{ID: 235, Name: "egressVRFID", Type: Unsigned32},
	{ID: 239, Name: "biflowDirection", Type: Unsigned8},
	{ID: 243, Name: "dot1qVlanId", Type: Unsigned16},
	{ID: 252, Name: "ingressPhysicalInterface", Type: Unsigned32},
	{ID: 253, Name: "egressPhysicalInterface", Type: Unsigned32},
	{ID: 291, Name: "basicList", Type: BasicList},
	{ID: 292, Name: "subTemplateList", Type: SubTemplateList},
	{ID: 293, Name: "subTemplateMultiList", Type: SubTemplateMultiList},
	{ID: 298, Name: "initiatorPackets", Type: Unsigned64},
	{ID: 299, Name: "responderPackets", Type: Unsigned64},
	{ID: 302, Name: "selectorId", Type: Unsigned64},
	{ID: 305, Name: "samplingPacketInterval", Type: Unsigned32},
	{ID: 306, Name: "samplingPacketSpace", Type: Unsigned32},
	{ID: 315, Name: "dataLinkFrameSection", Type: OctetArray},
	{ID: 322, Name: "observationTimeSeconds", Type: DateTimeSeconds},
	{ID: 323, Name: "observationTimeMilliseconds", Type: DateTimeMilliseconds},
	{ID: 324, Name: "observationTimeMicroseconds", Type: DateTimeMicroseconds},
	{ID: 325, Name: "observationTimeNanoseconds", Type: DateTimeNanoseconds},
}

// certElements are CERT (PEN 6871) elements that YAF and SiLK export;
// numbers as in libfixbuf's and YAF's element tables.
var certElements = []IE{
	{ID: 14, Name: "initialTCPFlags", Type: Unsigned8},
	{ID: 15, Name: "unionTCPFlags", Type: Unsigned8},
	{ID: 18, Name: "payload", Type: OctetArray},
	{ID: 21, Name: "reverseFlowDeltaMilliseconds", Type: Unsigned32},
	{ID: 30, Name: "silkFlowType", Type: Unsigned8},
	{ID: 31, Name: "silkFlowSensor", Type: Unsigned16},
	{ID: 32, Name: "silkTCPState", Type: Unsigned8},
	{ID: 33, Name: "silkAppLabel", Type: Unsigned16},
	{ID: 35, Name: "payloadEntropy", Type: Unsigned8},
	{ID: 36, Name: "osName", Type: String},
	{ID: 37, Name: "osVersion", Type: String},
	{ID: 40, Name: "flowAttributes", Type: Unsigned16},
	{ID: 106, Name: "flowKeyHash", Type: Unsigned32},
}
