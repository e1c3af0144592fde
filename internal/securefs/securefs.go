// Package securefs creates the private directories and files that hold
// c9cred's secrets: directories 0700, files 0600, created with those modes
// from the start (never chmod'ed after) and replaced atomically, so a reader
// sees the previous file or the new one and never a torn write.
//
// A directory that exists already must belong to the current user and must
// not be a symbolic link; a directory that is group- or world-accessible is
// tightened to 0700. Anything else is refused with an error that says why.
package securefs

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// DirMode and FileMode are the only modes c9cred creates secrets with.
const (
	DirMode  fs.FileMode = 0o700
	FileMode fs.FileMode = 0o600
)

// EnsureDir creates dir (and missing parents of it, with the usual 0755) as
// a private directory, or checks that an existing one is private.
func EnsureDir(dir string) error {
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return fmt.Errorf("create %s: %w", filepath.Dir(dir), err)
	}
	err := os.Mkdir(dir, DirMode)
	if err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	fi, err := os.Lstat(dir)
	if err != nil {
		return fmt.Errorf("inspect %s: %w", dir, err)
	}
	if fi.Mode()&fs.ModeSymlink != 0 {
		return fmt.Errorf("%s is a symbolic link; refusing to keep secrets behind it (remove it and retry)", dir)
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s is not a directory", dir)
	}
	if err := checkOwner(dir, fi); err != nil {
		return err
	}
	if fi.Mode().Perm()&0o077 != 0 {
		if err := os.Chmod(dir, DirMode); err != nil {
			return fmt.Errorf("%s is accessible to other users (mode %o) and could not be fixed: %w", dir, fi.Mode().Perm(), err)
		}
	}
	return nil
}

// WriteFile replaces path with data atomically: it writes a 0600 temporary
// file in the same directory, syncs it and renames it over path.
func WriteFile(path string, data []byte) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	ok := false
	defer func() {
		if !ok {
			f.Close()
			os.Remove(tmp)
		}
	}()
	// os.CreateTemp creates 0600 already; this guards against a platform
	// where it might not, before any byte is written.
	if err := f.Chmod(FileMode); err != nil && !errors.Is(err, errors.ErrUnsupported) {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if _, err := f.Write(data); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	ok = true
	return nil
}

// ReadFile reads a secret file, refusing a symbolic link or a file other
// users can read (which would mean somebody else created or loosened it).
// The checks run on the opened file itself, so a file swapped for a link
// between check and read is still refused.
func ReadFile(path string) ([]byte, error) {
	f, err := openNoFollow(path)
	if err != nil {
		if fi, lerr := os.Lstat(path); lerr == nil && fi.Mode()&fs.ModeSymlink != 0 {
			return nil, fmt.Errorf("%s is a symbolic link; refusing to read a secret through it", path)
		}
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	if err := checkOwner(path, fi); err != nil {
		return nil, err
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("%s is readable by other users (mode %o); remove it or chmod 600 it", path, fi.Mode().Perm())
	}
	return io.ReadAll(f)
}
