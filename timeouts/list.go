package timeouts

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
// of at by inserting from the tail. It holds no pointers.
type list struct {
	nodes      []node
	head, tail int32
	n          int
}

func newList() list { return list{head: noSlot, tail: noSlot} }

// grow makes room for slots [0, n), exactly.
func (l *list) grow(n int) {
	if n <= len(l.nodes) {
		return
	}
	nodes := make([]node, n)
	copy(nodes, l.nodes)
	for i := len(l.nodes); i < n; i++ {
		nodes[i] = node{prev: notLinked, next: notLinked}
	}
	l.nodes = nodes
}

// insert links s with time at, walking back from the tail while the
// predecessor is later.
func (l *list) insert(s int32, at int64) {
	after := l.tail
	for i := 0; after != noSlot && l.nodes[after].at > at && i < maxWalk; i++ {
		after = l.nodes[after].prev
	}
	nd := &l.nodes[s]
	nd.at = at
	nd.prev = after
	if after == noSlot {
		nd.next = l.head
		l.head = s
	} else {
		nd.next = l.nodes[after].next
		l.nodes[after].next = s
	}
	if nd.next == noSlot {
		l.tail = s
	} else {
		l.nodes[nd.next].prev = s
	}
	l.n++
}

// remove unlinks s (which must be linked).
func (l *list) remove(s int32) {
	nd := &l.nodes[s]
	if nd.prev == noSlot {
		l.head = nd.next
	} else {
		l.nodes[nd.prev].next = nd.next
	}
	if nd.next == noSlot {
		l.tail = nd.prev
	} else {
		l.nodes[nd.next].prev = nd.prev
	}
	nd.prev, nd.next = notLinked, notLinked
	l.n--
}

// touch moves s to its place for the later time at; an earlier or equal
// time leaves it where it is.
func (l *list) touch(s int32, at int64) {
	nd := &l.nodes[s]
	if at <= nd.at {
		return
	}
	if s == l.tail {
		nd.at = at
		return
	}
	l.remove(s)
	l.insert(s, at)
}

// closing is one entry of the closing FIFO. gen tells a live entry from one
// whose slot has ended (and maybe been reused) since.
type closing struct {
	slot int32
	gen  uint32
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
