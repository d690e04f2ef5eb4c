// Package flowtext reads and writes flow records as text, the way SiLK's
// rwcut prints them and rwtuc reads them: one record a line, columns chosen
// by name and separated by '|', plus CSV with a header line.
//
// The default columns are those of [DefaultFields]:
//
//	sIP|dIP|sPort|dPort|protocol|packets|bytes|flags|sTime|duration
//
// which is exactly what ../shared/bench/gen_flows.py writes and what
// `rwtuc --fields=sIP,dIP,sPort,dPort,protocol,packets,bytes,flags,sTime,duration`
// reads. Times are UNIX epoch seconds with at least three decimals (more
// when the record has sub-millisecond precision, up to nanoseconds), so
// what the writer prints the reader reads back exactly. The reader also
// takes SiLK's "2026/01/01T00:00:00.123" and RFC 3339 times, rwcut's padded
// columns and trailing delimiter, a title line, and '#' comment lines.
//
// TCP flags are SiLK letters (FSRPAUEC). Reading a bad line yields an
// error naming the line, the column and the field; see [ParseError].
package flowtext
