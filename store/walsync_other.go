//go:build !linux

package store

import "os"

// startWriteback is a no-op where sync_file_range does not exist; the
// kernel writes dirty pages back on its own schedule.
func startWriteback(fd uintptr, offset, n int64) {}

// syncData makes a file's data durable.
func syncData(f *os.File) error { return f.Sync() }
