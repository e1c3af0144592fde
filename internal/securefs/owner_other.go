//go:build !unix

package securefs

import (
	"io/fs"
	"os"
)

// checkOwner is a no-op where the platform has no POSIX owner; the user
// profile directory's ACLs protect the cache there.
func checkOwner(string, fs.FileInfo) error { return nil }

// openNoFollow opens path; where there is no O_NOFOLLOW the Lstat in
// ReadFile's caller path is the only link check.
func openNoFollow(path string) (*os.File, error) {
	if fi, err := os.Lstat(path); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
		return nil, fs.ErrPermission
	}
	return os.Open(path)
}
