package store

import (
	"time"

	"github.com/oklog/ulid/v2"
)

// keyOf returns the 16-byte big-endian key of a call id (a ULID). An id that is
// not a ULID gets a fresh key for time t, so the call is still stored in order.
func keyOf(id string, t time.Time) ([]byte, string) {
	u, err := ulid.ParseStrict(id)
	if err != nil {
		u = ulid.MustNew(ulid.Timestamp(t), ulid.DefaultEntropy())
		id = u.String()
	}
	k := make([]byte, 16)
	copy(k, u[:])
	return k, id
}

// parseKey returns the key of id, or false when id is not a ULID.
func parseKey(id string) ([]byte, bool) {
	u, err := ulid.ParseStrict(id)
	if err != nil {
		return nil, false
	}
	k := make([]byte, 16)
	copy(k, u[:])
	return k, true
}

// timeKey is the smallest key of a call made at or after t.
func timeKey(t time.Time) []byte {
	var u ulid.ULID
	_ = u.SetTime(ulid.Timestamp(t))
	k := make([]byte, 16)
	copy(k, u[:])
	return k
}

// keyID is the id string of a key.
func keyID(k []byte) string {
	var u ulid.ULID
	copy(u[:], k)
	return u.String()
}

// keyTime is the millisecond time in a key.
func keyTime(k []byte) time.Time {
	var u ulid.ULID
	copy(u[:], k)
	return ulid.Time(u.Time())
}
