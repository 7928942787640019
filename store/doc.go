// Package store keeps Gatehouse's durable state: the call history in bbolt,
// provider keys in the OS keychain, and the client tokens' hashes in
// clients.json (clients.go). It imports neither proxy nor ui.
//
// # Call history
//
// The history is one bbolt file, history.db in the data folder (mode 0600),
// opened once by the running instance (OpenHistory). Every key below named KEY is
// the 16 bytes of the call's ULID: big-endian, so byte order is time order and a
// cursor or time range is a bbolt Seek.
//
//	history.db
//	├── meta                  schema  → uint64 big-endian schema version
//	├── calls                 KEY     → summary: JSON of Call without bodies (what lists read)
//	├── bodies                KEY     → 1 flag byte (0 plain, 1 gzip, 2 S2) + binary payload of the
//	│                                   request, response and raw stream events, then each
//	│                                   attempt's wire record: headers and body as sent upstream
//	│                                   and as received, a body equal to the client's stored as
//	│                                   a reference to it (encode.go; optional, so older values
//	│                                   read as they are and older readers ignore it)
//	├── failed                KEY     → empty: calls whose outcome is not "ok" (failed-only pages)
//	├── by_provider           (schema 2)
//	│   └── PROVIDER          KEY     → empty: calls per provider (provider filter)
//	└── rollups               (schema 3; rollup.go)
//	                          HOUR PROVIDER 0 MODEL 0 CLIENT 0 STATUS
//	                                  → the hour's usage for those dimensions: calls,
//	                                    failures, saved calls, tokens, cost, latency and
//	                                    first-byte histograms (fixed log buckets)
//
// Summaries and bodies live apart so that a page of 100 reads 100 small values and
// never a body. Writes go through a bounded queue and one writer goroutine that
// redacts, caps, compresses and commits in batches; see History.Record. The
// writer also holds the file to its size budget (budget.go: in each batch's
// transaction the oldest calls make room for it; a file that outgrew the
// budget with free pages is compacted online, compact.go) and drops the mapped pages it touched from
// the process's resident memory.
//
// # Usage rollups
//
// Stats and the Usage screen read hourly rollups (History.Usage), never the
// calls: the writer adds each batch to its hours' rollups in the transaction
// that puts the calls, and migration 3 builds them for older files. Rollups
// outlive calls: retention and the size budget delete calls only, so stats
// keep counting what was recorded; rollups themselves go after 400 days.
// Compaction copies them with the rest and replays the hours written during
// its copy.
package store
