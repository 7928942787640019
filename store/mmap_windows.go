package store

// initialMmapSize is 0 (bbolt's default) on Windows, where bbolt grows the file
// itself to the mapped size: a large value would make history.db that large.
const initialMmapSize = 0
