package keychain

import (
	"c9cred/internal/names"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"c9cred/internal/securefs"
)

// FileStore keeps each secret in its own 0600 file, <Dir>/<account>.secret,
// inside a 0700 directory. It is the fallback where no keychain answers; the
// files are as safe as the user's account, no more.
type FileStore struct {
	Dir string
}

func (s *FileStore) Kind() string { return "file" }

// Path is where account's secret lives.
func (s *FileStore) Path(account string) (string, error) {
	if !names.Valid(account, 128) {
		return "", fmt.Errorf("invalid secret name %q: use letters, digits and _.@+=-", account)
	}
	return filepath.Join(s.Dir, account+".secret"), nil
}

func (s *FileStore) Get(_ context.Context, account string) (string, error) {
	p, err := s.Path(account)
	if err != nil {
		return "", err
	}
	b, err := securefs.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return "", ErrNotFound
	}
	if err != nil {
		return "", err
	}
	return string(b), nil
}

func (s *FileStore) Set(_ context.Context, account, secret string) error {
	p, err := s.Path(account)
	if err != nil {
		return err
	}
	if err := securefs.EnsureDir(s.Dir); err != nil {
		return err
	}
	return securefs.WriteFile(p, []byte(secret))
}

func (s *FileStore) Delete(_ context.Context, account string) error {
	p, err := s.Path(account)
	if err != nil {
		return err
	}
	err = os.Remove(p)
	if errors.Is(err, fs.ErrNotExist) {
		return ErrNotFound
	}
	return err
}
