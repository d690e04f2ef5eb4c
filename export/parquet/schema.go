package parquet

import (
	"github.com/parquet-go/parquet-go"
)

// row is one flow as a Parquet row. Its struct tags are the file's schema
// (names, types, encodings): see the table in the package documentation.
// The Reader reads rows; the Writer writes the same columns one by one
// (columns.go names them) and keeps the dictionaries of the text columns
// itself (textdict.go), but takes the schema from these tags.
type row struct {
	Start int64 `parquet:"start_time,timestamp(nanosecond:utc),delta"`
	End   int64 `parquet:"end_time,timestamp(nanosecond:utc),delta"`

	SrcAddr []byte  `parquet:"src_addr,string,dict"`
	DstAddr []byte  `parquet:"dst_addr,string,dict"`
	SrcIPv4 *uint32 `parquet:"src_ipv4,uint(32),dict"`
	DstIPv4 *uint32 `parquet:"dst_ipv4,uint(32),dict"`
	NextHop []byte  `parquet:"next_hop,string,dict"`

	SrcPort  uint16 `parquet:"src_port,uint(16),dict"`
	DstPort  uint16 `parquet:"dst_port,uint(16),dict"`
	Protocol uint8  `parquet:"protocol,uint(8),dict"`

	Packets        uint64 `parquet:"packets,uint(64),dict"`
	Bytes          uint64 `parquet:"bytes,uint(64),delta"`
	RevPackets     uint64 `parquet:"rev_packets,uint(64),dict"`
	RevBytes       uint64 `parquet:"rev_bytes,uint(64),delta"`
	RevStartOffset int64  `parquet:"rev_start_offset_ns,delta"`

	Input  uint32 `parquet:"input,uint(32),dict"`
	Output uint32 `parquet:"output,uint(32),dict"`
	SrcAS  uint32 `parquet:"src_as,uint(32),dict"`
	DstAS  uint32 `parquet:"dst_as,uint(32),dict"`

	Sensor      uint16 `parquet:"sensor,uint(16),dict"`
	VLAN        uint16 `parquet:"vlan,uint(16),dict"`
	Application uint16 `parquet:"application,uint(16),dict"`

	Flags           uint8 `parquet:"flags,uint(8),dict"`
	InitialFlags    uint8 `parquet:"initial_flags,uint(8),dict"`
	SessionFlags    uint8 `parquet:"session_flags,uint(8),dict"`
	RevFlags        uint8 `parquet:"rev_flags,uint(8),dict"`
	RevInitialFlags uint8 `parquet:"rev_initial_flags,uint(8),dict"`
	RevSessionFlags uint8 `parquet:"rev_session_flags,uint(8),dict"`

	EndReason string `parquet:"end_reason,enum,dict"`
	Type      string `parquet:"flow_type,enum,dict"`
}

// Schema is the Parquet schema of the files Writer writes.
var Schema = parquet.SchemaOf(row{})
