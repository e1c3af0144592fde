package keychain

import (
	"c9cred/internal/names"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
)

// StoredKeys are long-term access keys saved with `c9cred store NAME`.
type StoredKeys struct {
	AccessKeyID     string `json:"AccessKeyId"`
	SecretAccessKey string `json:"SecretAccessKey"`
}

// ValidKeyName checks a stored-key name.
func ValidKeyName(name string) error {
	if !names.Valid(name, 64) {
		return fmt.Errorf("%q is not a valid name; use 1 to 64 letters, digits and _.@+=- starting with a letter or digit", name)
	}
	return nil
}

const indexAccount = "stored-index"

func keysAccount(name string) string { return "stored-" + name }

// InsecureDir is where `store --insecure-file` keeps keys when there is no
// keychain: the user's config directory, not the cache (caches get wiped).
func InsecureDir() (string, error) {
	d, err := os.UserConfigDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(d, "c9cred", "keys"), nil
}

// Keyring is a store for long-term keys, with an index of names so they
// can be listed (keychains cannot be enumerated portably).
type Keyring struct {
	Store Store
}

// Save stores keys under name and records name in the index.
func (k Keyring) Save(ctx context.Context, name string, keys StoredKeys) error {
	b, _ := json.Marshal(keys)
	if err := k.Store.Set(ctx, keysAccount(name), string(b)); err != nil {
		return err
	}
	idx, err := k.List(ctx)
	if err != nil {
		return err
	}
	idx[name] = keys.AccessKeyID
	return k.saveIndex(ctx, idx)
}

// Load returns the keys stored under name, or ErrNotFound.
func (k Keyring) Load(ctx context.Context, name string) (StoredKeys, error) {
	v, err := k.Store.Get(ctx, keysAccount(name))
	if err != nil {
		return StoredKeys{}, err
	}
	var keys StoredKeys
	if err := json.Unmarshal([]byte(v), &keys); err != nil || keys.AccessKeyID == "" || keys.SecretAccessKey == "" {
		return StoredKeys{}, fmt.Errorf("stored keys %q in the %s store are damaged; store them again", name, k.Store.Kind())
	}
	return keys, nil
}

// List returns name -> access key id for every stored name.
func (k Keyring) List(ctx context.Context) (map[string]string, error) {
	v, err := k.Store.Get(ctx, indexAccount)
	if errors.Is(err, ErrNotFound) {
		return map[string]string{}, nil
	}
	if err != nil {
		return nil, err
	}
	idx := map[string]string{}
	if err := json.Unmarshal([]byte(v), &idx); err != nil {
		// A damaged index loses only the listing, never a key.
		return map[string]string{}, nil
	}
	return idx, nil
}

// Names returns the stored names, sorted.
func Names(idx map[string]string) []string {
	var out []string
	for n := range idx {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Delete removes the keys stored under name; ErrNotFound when none.
func (k Keyring) Delete(ctx context.Context, name string) error {
	err := k.Store.Delete(ctx, keysAccount(name))
	if err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	idx, lerr := k.List(ctx)
	if lerr != nil {
		return lerr
	}
	_, listed := idx[name]
	if listed {
		delete(idx, name)
		if serr := k.saveIndex(ctx, idx); serr != nil {
			return serr
		}
	}
	if errors.Is(err, ErrNotFound) && !listed {
		return ErrNotFound
	}
	return nil
}

func (k Keyring) saveIndex(ctx context.Context, idx map[string]string) error {
	b, _ := json.Marshal(idx)
	return k.Store.Set(ctx, indexAccount, string(b))
}

// StoredKeyrings returns where stored keys may be, in lookup order: the OS
// keychain when one is reachable, then the insecure file store.
func StoredKeyrings(getenv func(string) string) []Keyring {
	var out []Keyring
	if Unreachable(getenv) == "" {
		out = append(out, Keyring{Store: &OSStore{}})
	}
	if dir, err := InsecureDir(); err == nil {
		out = append(out, Keyring{Store: &FileStore{Dir: dir}})
	}
	return out
}
