package flow

import (
	"encoding/binary"
	"math/bits"
)

// Key identifies a flow: the 5-tuple plus VLAN and sensor. It is comparable,
// so it works as a map key, and Hash gives a fast well-mixed hash for flow
// tables and for sharding work across cores.
type Key struct {
	Src, Dst         Addr
	SrcPort, DstPort uint16
	VLAN             uint16
	Sensor           uint16
	Protocol         uint8
}

// Reverse returns the key of the opposite direction.
func (k Key) Reverse() Key {
	k.Src, k.Dst = k.Dst, k.Src
	k.SrcPort, k.DstPort = k.DstPort, k.SrcPort
	return k
}

// Hash returns a 64-bit hash of k. Equal keys hash equally within and
// across processes (the hash has a fixed seed), so it may decide shards.
func (k *Key) Hash() uint64 {
	le := binary.LittleEndian
	h := mix(le.Uint64(k.Src[0:8])^0x9e3779b97f4a7c15, le.Uint64(k.Src[8:16])^0xd6e8feb86659fd93)
	h = mix(h^le.Uint64(k.Dst[0:8]), le.Uint64(k.Dst[8:16])^0xa0761d6478bd642f)
	tail := uint64(k.SrcPort) | uint64(k.DstPort)<<16 | uint64(k.VLAN)<<32 | uint64(k.Sensor)<<48
	return mix(h^tail, uint64(k.Protocol)^0xe7037ed1a0b428db)
}

// SymmetricHash returns the same value for k and k.Reverse(), so that both
// directions of a conversation land in the same shard of a biflow table.
func (k *Key) SymmetricHash() uint64 {
	if k.lessReversed() {
		r := k.Reverse()
		return r.Hash()
	}
	return k.Hash()
}

// lessReversed reports whether the reversed key orders before k, which picks
// one canonical direction for symmetric hashing.
func (k *Key) lessReversed() bool {
	for i := range k.Src {
		if k.Src[i] != k.Dst[i] {
			return k.Dst[i] < k.Src[i]
		}
	}
	return k.DstPort < k.SrcPort
}

// mix is the wyhash-style multiply-fold: a 128-bit product folded to 64 bits.
func mix(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	return hi ^ lo
}
