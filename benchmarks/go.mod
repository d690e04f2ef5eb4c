module github.com/flowkit/flowkit/benchmarks

go 1.26.0

require (
	github.com/flowkit/flowkit v0.0.0
	github.com/netsampler/goflow2/v2 v2.2.6
)

require (
	github.com/RoaringBitmap/roaring/v2 v2.30.0 // indirect
	github.com/bits-and-blooms/bitset v1.24.4 // indirect
	github.com/gopacket/gopacket v1.7.7 // indirect
	github.com/mschoch/smat v0.2.0 // indirect
	github.com/pierrec/lz4/v4 v4.1.33 // indirect
	golang.org/x/exp v0.0.0-20261113113407-e3970619a1a4 // indirect
	golang.org/x/net v0.62.0 // indirect
	golang.org/x/sys v0.49.0 // indirect
)

replace github.com/flowkit/flowkit => ../
