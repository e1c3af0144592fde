//go:build !unix

package securefs

import "io/fs"

// checkOwner is a no-op where the platform has no POSIX owner; the user
// profile directory's ACLs protect the cache there.
func checkOwner(string, fs.FileInfo) error { return nil }
