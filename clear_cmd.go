package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"c9cred/cache"
	"c9cred/keychain"
	"c9cred/process"
)

// roleList collects repeated --role flags.
type roleList []string

func (r *roleList) String() string     { return strings.Join(*r, ",") }
func (r *roleList) Set(v string) error { *r = append(*r, v); return nil }

// cmdClear removes cached sessions: all of them, or those of --role ARN.
// --all also removes the data key (in the keychain and the file store);
// stored long-term keys stay unless --stored is given.
func cmdClear(ctx context.Context, args []string, e *env) int {
	fs := flag.NewFlagSet("c9cred clear", flag.ContinueOnError)
	var roles roleList
	fs.Var(&roles, "role", "")
	all := fs.Bool("all", false, "")
	stored := fs.Bool("stored", false, "")
	mode := fs.String("cache", "auto", "")
	if code, done := parseCommand(fs, args, clearUsage, e); done {
		return code
	}
	if fs.NArg() > 0 || (*all && len(roles) > 0) {
		return e.fail(process.Usagef("%s", strings.TrimSpace(clearUsage)))
	}
	for _, r := range roles {
		if _, err := process.ParseRoleARN(r); err != nil {
			return e.fail(err)
		}
	}
	dir, err := cacheDir()
	if err != nil {
		return e.fail(err)
	}
	removed := 0
	if len(roles) > 0 {
		c, err := openCache(ctx, *mode, e)
		if err != nil {
			return e.fail(err)
		}
		eachCached(c, func(name string, _ cache.Entry, creds process.Credentials) {
			for _, r := range roles {
				if creds.Role == r && c.Delete(name) == nil {
					removed++
				}
			}
		})
	} else {
		entries, _ := filepath.Glob(filepath.Join(dir, "*.entry"))
		for _, p := range entries {
			if os.Remove(p) == nil {
				removed++
			}
		}
	}
	fmt.Fprintf(e.stderr, "c9cred: removed %d cached session(s) from %s\n", removed, dir)
	if *all {
		locks, _ := filepath.Glob(filepath.Join(dir, "*.lock"))
		for _, p := range locks {
			os.Remove(p)
		}
		for _, s := range []keychain.Store{&keychain.FileStore{Dir: dir}, &keychain.OSStore{}} {
			if s.Kind() == "keychain" && keychain.Unreachable(e.getenv) != "" {
				continue
			}
			if err := s.Delete(ctx, keychain.DataKeyAccount); err == nil {
				fmt.Fprintf(e.stderr, "c9cred: removed the cache data key from the %s store\n", s.Kind())
			} else if !errors.Is(err, keychain.ErrNotFound) {
				e.warn("could not remove the data key from the %s store: %v", s.Kind(), err)
			}
		}
	}
	if *stored {
		eachStored(ctx, e, func(kr keychain.Keyring, name, _ string) {
			if err := kr.Delete(ctx, name); err == nil {
				fmt.Fprintf(e.stderr, "c9cred: deleted stored keys %q from the %s store\n", name, kr.Store.Kind())
			}
		})
	}
	return 0
}

const clearUsage = "Usage: c9cred clear [--all | --role ARN ...] [--stored]\n"
