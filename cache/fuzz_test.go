package cache

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// FuzzEntryDecoder: any bytes in an entry file are a miss or a valid entry,
// never a panic, and a miss never removes the file.
func FuzzEntryDecoder(f *testing.F) {
	dir := f.TempDir()
	key := make([]byte, 32)
	c, err := New(Options{Dir: dir, Key: key, KeyID: [8]byte{1}})
	if err != nil {
		f.Fatal(err)
	}
	if err := c.Put("seed", Entry{Expires: time.Now().Add(time.Hour), Payload: []byte(`{"k":"v"}`)}); err != nil {
		f.Fatal(err)
	}
	good, _ := os.ReadFile(filepath.Join(dir, "seed.entry"))
	f.Add(good)
	f.Add([]byte{})
	f.Add([]byte("C9C1"))
	f.Add(append([]byte("C9C1\x01\x00\x00\x00\x00\x00\x00\x00"), make([]byte, 64)...))
	f.Fuzz(func(t *testing.T, b []byte) {
		p := filepath.Join(dir, "fuzz.entry")
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := c.Get("fuzz")
		if err != nil && !errors.Is(err, ErrMiss) {
			t.Errorf("error %v is not a miss", err)
		}
		if _, serr := os.Stat(p); serr != nil {
			t.Errorf("a read removed the entry file")
		}
	})
}
