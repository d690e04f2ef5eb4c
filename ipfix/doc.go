// Package ipfix speaks IPFIX (RFC 7011) and reads NetFlow v9 (RFC 3954)
// and v5, converting to and from flow.Record.
//
// # Messages
//
// An IPFIX message is a 16-byte header followed by sets. Template sets
// (id 2) and options template sets (id 3) describe records; data sets
// (id >= 256, the template id) carry them:
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-------------------------------+-------------------------------+
//	|       Version = 0x000a        |        Message Length         |
//	+-------------------------------+-------------------------------+
//	|                  Export Time (s since 1970)                   |
//	+---------------------------------------------------------------+
//	|       Sequence Number (data records sent before this one)     |
//	+---------------------------------------------------------------+
//	|                    Observation Domain ID                      |
//	+===============================+===============================+
//	|          Set ID = 2           |          Set Length           |
//	+-------------------------------+-------------------------------+
//	|      Template ID (>= 256)     |          Field Count          |
//	+-+-----------------------------+-------------------------------+
//	|E|   Information Element id    |  Field Length (65535 = var)   |
//	+-+-----------------------------+-------------------------------+
//	|         Enterprise Number (only when E is set)                |
//	+-------------------------------+-------------------------------+
//	|              ... more fields, more templates ...              |
//	+===============================+===============================+
//	|     Set ID = Template ID      |          Set Length           |
//	+-------------------------------+-------------------------------+
//	|  Record 1: field values in template order, big-endian;        |
//	|  variable-length ones prefixed by 1 length byte, or by 255    |
//	|  and a 2-byte length                                          |
//	+---------------------------------------------------------------+
//	|  Record 2 ...                               | padding         |
//	+---------------------------------------------------------------+
//
// NetFlow v9 has the same structure with a 20-byte header (count,
// sysUptime, unix seconds, sequence of packets, source id), template
// flowset id 0 and options template flowset id 1. NetFlow v5 is a 24-byte
// header and fixed 48-byte records.
//
// # Decoding
//
// A Decoder serves one transport session. It keeps the templates of each
// observation domain and compiles each template once into a plan: a list
// of (offset, length, operation) steps, mapped fields only, run for every
// record straight into a caller-owned flow.Record. Decoding allocates
// nothing per record. Fields are mapped by element, not by position, so
// any template whose fields describe flows decodes: reduced-size counters,
// total instead of delta counts, times in seconds, milli-, micro- or
// nanoseconds, or sysUpTime-relative (with systemInitTimeMilliseconds from
// the record or an options record, and 32-bit uptime wrap handled), CERT's
// initialTCPFlags/unionTCPFlags and RFC 5103 reverse elements. Fields that
// do not map, including unknown enterprise elements and RFC 6313 lists,
// are skipped by offset and never mis-parsed; Decoder.OnField receives
// them raw when set.
//
// sysUpTime-relative times (NetFlow v9 FIRST_SWITCHED, IPFIX
// flowStartSysUpTime) come from a 32-bit millisecond counter that wraps
// every 49.7 days; flowkit places each flow in the 2^32 ms before its
// export, where it must have been, and derives the start from the end and
// the modular duration, so durations are always right. (nfdump adds the
// raw value to the boot time and prints such flows in the future with
// negative durations, as softflowd-ipfix-sysuptime.pcap in the shared data
// shows.)
//
// Errors wrap ErrTruncated, ErrMalformed, ErrUnknownTemplate, ErrLimit or
// ErrVersion in an *Error naming the set id and byte offset. Templates are
// bounded per session by Limits; sequence numbers are tracked per domain
// and gaps counted (Stats).
//
// # Encoding, files, export and collection
//
// Encoder writes flow.Records with four templates (IPv4/IPv6, one
// direction/biflow) carrying every Record field, append-style, in messages
// of a chosen size. FileWriter and FileReader handle RFC 5655 IPFIX files.
// Exporter sends over UDP (templates re-sent on an interval) or TCP
// (reconnecting); Collector receives from many exporters at once over UDP
// and TCP. ReadPcapDatagrams replays exports captured in pcap files.
package ipfix
