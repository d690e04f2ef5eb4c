package parquet

import "net/netip"

type netipAddr = netip.Addr

var parseNetip = netip.ParseAddr
