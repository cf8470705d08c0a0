package store

import (
	"os"

	"golang.org/x/sys/unix"
)

// startWriteback asks the kernel to start writing n bytes of a file's
// dirty pages from offset to disk, waiting only for writeback already
// under way there. It guarantees nothing and costs a system call; on file
// systems that keep no page cache it does nothing.
func startWriteback(fd uintptr, offset, n int64) {
	_ = unix.SyncFileRange(int(fd), offset, n, unix.SYNC_FILE_RANGE_WAIT_BEFORE|unix.SYNC_FILE_RANGE_WRITE)
}

// syncData makes a file's data durable, and of its metadata only what
// reading the data back needs (its size): fdatasync.
func syncData(f *os.File) error {
	for {
		err := unix.Fdatasync(int(f.Fd()))
		if err != unix.EINTR {
			return err
		}
	}
}
