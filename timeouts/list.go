package timeouts

import "github.com/flowkit/flowkit/internal/pages"

// maxSlots is the largest number of slots a Tracker handles (int32 indexes).
const maxSlots = 1<<31 - 2

// noSlot marks the end of a list; notLinked marks a slot outside the list.
const (
	noSlot    int32 = -1
	notLinked int32 = -2
)

// maxWalk bounds how far an insertion walks back from the tail to keep a
// list ordered when a timestamp goes backwards (a reordered capture). In
// order, the walk stops at once; a longer disorder is inserted after
// maxWalk steps, so a flow may then expire a little late, never early
// before its own time and never at O(n) cost.
const maxWalk = 16

// node is one slot's place in a list: neighbours and the ordering time.
type node struct {
	prev, next int32
	at         int64
}

// list is a doubly linked list over slot numbers, kept in ascending order
// of at by inserting from the tail. It holds no pointers. Its nodes are in
// one array (flat), which a packet's lookups reach with one load less, or
// in pages, which grow without copying or spare room (see internal/pages).
type list struct {
	flat       []node
	paged      pages.Pages[node]
	isPaged    bool
	head, tail int32
	n          int
}

func newList(paged bool) list { return list{isPaged: paged, head: noSlot, tail: noSlot} }

// grow makes room for slots [0, n): a page at a time, or for a flat list
// by doubling while small and then by an eighth (so that at most about 1/9
// of its memory is spare).
func (l *list) grow(n int) {
	if l.isPaged {
		l.paged.Grow(n, func(pg *[pages.PageSize]node) { unlink(pg[:]) })
		return
	}
	if n <= len(l.flat) {
		return
	}
	c := len(l.flat)
	for c < n {
		if c < 1<<16 {
			c = max(2*c, 256)
		} else {
			c += c / 8
		}
	}
	nodes := make([]node, c)
	copy(nodes, l.flat)
	unlink(nodes[len(l.flat):])
	l.flat = nodes
}

// unlink marks nodes as outside the list.
func unlink(nodes []node) {
	for i := range nodes {
		nodes[i] = node{prev: notLinked, next: notLinked}
	}
}

// node returns slot s's node.
func (l *list) node(s int32) *node {
	if !l.isPaged {
		return &l.flat[s]
	}
	return l.paged.At(s)
}

// insert links s with time at, walking back from the tail while the
// predecessor is later.
func (l *list) insert(s int32, at int64) {
	after := l.tail
	for i := 0; after != noSlot && l.node(after).at > at && i < maxWalk; i++ {
		after = l.node(after).prev
	}
	nd := l.node(s)
	nd.at = at
	nd.prev = after
	if after == noSlot {
		nd.next = l.head
		l.head = s
	} else {
		nd.next = l.node(after).next
		l.node(after).next = s
	}
	if nd.next == noSlot {
		l.tail = s
	} else {
		l.node(nd.next).prev = s
	}
	l.n++
}

// remove unlinks s (which must be linked).
func (l *list) remove(s int32) {
	nd := l.node(s)
	if nd.prev == noSlot {
		l.head = nd.next
	} else {
		l.node(nd.prev).next = nd.next
	}
	if nd.next == noSlot {
		l.tail = nd.prev
	} else {
		l.node(nd.next).prev = nd.prev
	}
	nd.prev, nd.next = notLinked, notLinked
	l.n--
}

// touch moves s to its place for the later time at; an earlier or equal
// time leaves it where it is. The usual case, a packet of a flow that is
// not the last seen and no earlier than the last seen one, moves s to the
// tail with each neighbour's node looked up once.
func (l *list) touch(s int32, at int64) {
	nd := l.node(s)
	if at <= nd.at {
		return
	}
	if s == l.tail {
		nd.at = at
		return
	}
	tail := l.node(l.tail)
	if tail.at > at {
		l.remove(s)
		l.insert(s, at)
		return
	}
	// Unlink s (it has a next: it is not the tail) and append it.
	prev, next := nd.prev, nd.next
	l.node(next).prev = prev
	if prev == noSlot {
		l.head = next
	} else {
		l.node(prev).next = next
	}
	tail.next = s
	nd.prev, nd.next, nd.at = l.tail, noSlot, at
	l.tail = s
}

// closing is one entry of the closing FIFO: a slot and its closing time.
// A slot is not reused while its entry is in the FIFO (see Tracker.Free),
// so the entry is the slot's flow's as long as that flow is tracked.
type closing struct {
	slot int32
	at   int64
}

// fifo is a growable ring of closing entries.
type fifo struct {
	buf        []closing
	head, size int
}

func (q *fifo) push(c closing) {
	if q.size == len(q.buf) {
		nb := make([]closing, max(16, 2*len(q.buf)))
		for i := 0; i < q.size; i++ {
			nb[i] = q.buf[(q.head+i)%len(q.buf)]
		}
		q.buf, q.head = nb, 0
	}
	q.buf[(q.head+q.size)%len(q.buf)] = c
	q.size++
}

func (q *fifo) front() *closing { return &q.buf[q.head] }

func (q *fifo) pop() {
	q.head = (q.head + 1) % len(q.buf)
	q.size--
}
