package parquet

import "sync"

// Writers take their address and integer dictionaries and their page
// buffers from these pools and give them back on Close, so that a
// process writing file after file reuses their memory (tens of MB for a
// row group of a million flows, grown as the dictionaries fill) rather
// than having fresh pages faulted in and zeroed for every file.
var (
	addrDictPool sync.Pool    // *textDict of an address column
	intDictPools [3]sync.Pool // *intDict, by intDictPool
	pageBufPools [3]sync.Pool // *pageBuf, by pageKind
)

// intDictPool returns the pool of the integer dictionaries with a direct
// index of the given length.
func intDictPool(direct int) *sync.Pool {
	switch direct {
	case 0:
		return &intDictPools[0]
	case 1 << 8:
		return &intDictPools[1]
	}
	return &intDictPools[2]
}

// release gives the columns' dictionaries and page buffers back to the
// pools; the writer that had them is closed.
func (cols *colStates) release() {
	for i := range cols {
		st := &cols[i]
		if st.text != nil && st.text.addrs != nil {
			addrDictPool.Put(st.text)
		}
		if st.ints != nil {
			intDictPool(len(st.ints.direct)).Put(st.ints)
		}
		if st.buf != nil {
			pageBufPools[st.buf.kind].Put(st.buf)
		}
		if st.dict != nil {
			st.dict.release()
		}
		st.text, st.ints, st.buf = nil, nil, nil
	}
}
