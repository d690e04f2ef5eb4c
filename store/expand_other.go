//go:build !amd64

package store

import "github.com/flowkit/flowkit/flow"

// canExpand and canWiden: no vector routines here.
const canExpand, canWiden = false, false

// placeWords has no vector routine here: fillIndexed places every
// exception itself.
func placeWords[T any](dst []T, words []uint64, flip uint64, exc []T) bool { return false }

// widenAddrs4 has no vector routine here: fillAddrs4 widens every
// address itself.
func widenAddrs4(dst []flow.Addr, src []uint32) int { return 0 }

// narrowVec has no vector routine here: narrow copies every value.
func narrowVec[T streamValue](dst []T, src []uint64) (int, uint64) { return 0, 0 }
