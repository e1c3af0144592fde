package cache_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"c9cred/cache"
)

const window = 15 * time.Minute

// refresher is a refresh func that counts its calls.
type refresher struct {
	calls atomic.Int32
	entry cache.Entry
	err   error
}

func (r *refresher) fn(context.Context) (cache.Entry, error) {
	r.calls.Add(1)
	return r.entry, r.err
}

func mustNotRefresh(t *testing.T) func(context.Context) (cache.Entry, error) {
	return func(context.Context) (cache.Entry, error) {
		t.Error("refresh was called")
		return cache.Entry{}, errors.New("refresh must not be called")
	}
}

func TestFetchServesFreshEntryWithoutRefresh(t *testing.T) {
	tests := []struct {
		name    string
		expires time.Duration // from now
	}{
		{"just outside the window", window + time.Nanosecond},
		{"one hour left", time.Hour},
		{"twelve hours left", 12 * time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCache(t, t.TempDir(), nil)
			name := cache.Name("fresh")
			stored := cache.Entry{Expires: t0.Add(tt.expires), Written: t0.Add(-time.Minute), Payload: []byte("cached")}
			if err := c.Put(name, stored); err != nil {
				t.Fatal(err)
			}
			e, res, err := c.Fetch(t.Context(), name, cache.Policy{Window: window}, mustNotRefresh(t))
			if err != nil {
				t.Fatalf("Fetch: %v", err)
			}
			if !res.Hit || res.Warning != "" {
				t.Errorf("Result = %+v, want a clean hit", res)
			}
			assertSameEntry(t, e, stored)
		})
	}
}

func TestFetchRefreshesWhenNoFreshEntry(t *testing.T) {
	old := []byte("old payload")
	tests := []struct {
		name    string
		prepare func(t *testing.T, c *cache.Cache, name string)
	}{
		{"no entry", func(*testing.T, *cache.Cache, string) {}},
		{"entry inside the window", putExpiring(10*time.Minute, old)},
		{"entry exactly at the window", putExpiring(window, old)},
		{"entry expired", putExpiring(-time.Minute, old)},
		{"corrupt entry", func(t *testing.T, c *cache.Cache, name string) {
			if err := os.WriteFile(entryFile(c, name), []byte("C9C1 not really an entry, just junk bytes"), 0o600); err != nil {
				t.Fatal(err)
			}
		}},
		{"entry sealed under another data key", func(t *testing.T, c *cache.Cache, name string) {
			other := newCacheWithKey(t, c.Dir(), otherKey, otherKeyID, nil)
			if err := other.Put(name, cache.Entry{Expires: t0.Add(time.Hour), Payload: old}); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCache(t, t.TempDir(), nil)
			name := cache.Name("refresh")
			tt.prepare(t, c, name)
			r := &refresher{entry: cache.Entry{Expires: t0.Add(time.Hour), Payload: []byte("new payload")}}

			e, res, err := c.Fetch(t.Context(), name, cache.Policy{Window: window}, r.fn)
			if err != nil {
				t.Fatalf("Fetch: %v", err)
			}
			if n := r.calls.Load(); n != 1 {
				t.Errorf("refresh called %d times, want 1", n)
			}
			if res.Hit || res.Warning != "" {
				t.Errorf("Result = %+v, want a clean miss", res)
			}
			if string(e.Payload) != "new payload" {
				t.Errorf("Fetch payload = %q, want the refreshed one", e.Payload)
			}
			// The refreshed entry replaced whatever was there.
			got, err := c.Get(name)
			if err != nil {
				t.Fatalf("Get after refresh: %v", err)
			}
			assertSameEntry(t, got, cache.Entry{Expires: t0.Add(time.Hour), Written: t0, Payload: []byte("new payload")})
		})
	}
}

func putExpiring(in time.Duration, payload []byte) func(t *testing.T, c *cache.Cache, name string) {
	return func(t *testing.T, c *cache.Cache, name string) {
		t.Helper()
		if err := c.Put(name, cache.Entry{Expires: t0.Add(in), Written: t0.Add(-time.Hour), Payload: payload}); err != nil {
			t.Fatal(err)
		}
	}
}

func TestFetchForceSkipsFreshEntry(t *testing.T) {
	clk := newClock(t0)
	c := newCache(t, t.TempDir(), clk.Now)
	name := cache.Name("force")
	putExpiring(time.Hour, []byte("old"))(t, c, name)
	clk.Advance(time.Second)
	r := &refresher{entry: cache.Entry{Expires: t0.Add(2 * time.Hour), Payload: []byte("forced")}}

	e, res, err := c.Fetch(t.Context(), name, cache.Policy{Window: window, Force: true}, r.fn)
	if err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	if n := r.calls.Load(); n != 1 {
		t.Fatalf("refresh called %d times, want 1", n)
	}
	if res.Hit || string(e.Payload) != "forced" {
		t.Errorf("Fetch = %q, %+v; want the forced refresh", e.Payload, res)
	}
	if got, err := c.Get(name); err != nil || string(got.Payload) != "forced" {
		t.Errorf("stored entry = %q, %v; want the forced refresh", got.Payload, err)
	}
}

func TestFetchDoesNotStoreUnfitRefreshResult(t *testing.T) {
	tests := []struct {
		name  string
		entry cache.Entry
	}{
		{"zero Expires", cache.Entry{Payload: []byte("no expiry")}},
		{"inside the window", cache.Entry{Expires: t0.Add(5 * time.Minute), Payload: []byte("short")}},
		{"already expired", cache.Entry{Expires: t0.Add(-time.Second), Payload: []byte("dead")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCache(t, t.TempDir(), nil)
			name := cache.Name("unfit")
			r := &refresher{entry: tt.entry}
			e, res, err := c.Fetch(t.Context(), name, cache.Policy{Window: window}, r.fn)
			if err != nil {
				t.Fatalf("Fetch: %v", err)
			}
			if res.Hit || !bytes.Equal(e.Payload, tt.entry.Payload) {
				t.Errorf("Fetch = %q, %+v; want the refresh result, not a hit", e.Payload, res)
			}
			if _, err := c.Get(name); !errors.Is(err, cache.ErrMiss) {
				t.Errorf("Get after Fetch: %v, want ErrMiss (result must not be stored)", err)
			}
			if names, _ := c.Names(); len(names) != 0 {
				t.Errorf("cache holds entries %q, want none", names)
			}
		})
	}
}

func TestFetchServesStaleEntryOnlyWhenAllowed(t *testing.T) {
	const marker = "STALE-PAYLOAD-MARKER-9c1"
	errOutage := errors.New("sts: 503 service unavailable")
	tests := []struct {
		name      string
		oldIn     time.Duration // old entry expires in; 0 means no old entry
		policy    cache.Policy
		wantStale bool
	}{
		{"transient failure with more than Stale left", 10 * time.Minute, cache.Policy{Window: window, Stale: 5 * time.Minute}, true},
		{"Transient accepts the error", 10 * time.Minute, cache.Policy{Window: window, Stale: 5 * time.Minute, Transient: func(err error) bool { return errors.Is(err, errOutage) }}, true},
		{"Transient rejects the error", 10 * time.Minute, cache.Policy{Window: window, Stale: 5 * time.Minute, Transient: func(error) bool { return false }}, false},
		{"less than Stale left", 3 * time.Minute, cache.Policy{Window: window, Stale: 5 * time.Minute}, false},
		{"exactly Stale left", 5 * time.Minute, cache.Policy{Window: window, Stale: 5 * time.Minute}, false},
		{"old entry expired", -time.Minute, cache.Policy{Window: window, Stale: 5 * time.Minute}, false},
		{"Stale not set", 10 * time.Minute, cache.Policy{Window: window}, false},
		{"Force never serves stale", 10 * time.Minute, cache.Policy{Window: window, Stale: 5 * time.Minute, Force: true}, false},
		{"no old entry", 0, cache.Policy{Window: window, Stale: 5 * time.Minute}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCache(t, t.TempDir(), nil)
			name := cache.Name("stale")
			old := cache.Entry{Expires: t0.Add(tt.oldIn), Written: t0.Add(-50 * time.Minute), Payload: []byte(marker)}
			if tt.oldIn != 0 {
				if err := c.Put(name, old); err != nil {
					t.Fatal(err)
				}
			}
			before := entrySnapshot(t, c.Dir())
			r := &refresher{err: fmt.Errorf("refresh: %w", errOutage)}

			e, res, err := c.Fetch(t.Context(), name, tt.policy, r.fn)
			if n := r.calls.Load(); n != 1 {
				t.Errorf("refresh called %d times, want 1", n)
			}
			if tt.wantStale {
				if err != nil {
					t.Fatalf("Fetch: %v, want the stale entry", err)
				}
				assertSameEntry(t, e, old)
				if !res.Hit || res.Warning == "" {
					t.Errorf("Result = %+v, want a hit with a warning", res)
				}
				if strings.Contains(res.Warning, marker) {
					t.Errorf("warning %q reveals the payload", res.Warning)
				}
			} else {
				if !errors.Is(err, errOutage) {
					t.Fatalf("Fetch = %q, %+v, %v; want the refresh error", e.Payload, res, err)
				}
				if len(e.Payload) != 0 {
					t.Errorf("failed Fetch returned payload %q", e.Payload)
				}
			}
			// Either way the old entry is on disk, untouched.
			if after := entrySnapshot(t, c.Dir()); !mapsEqual(before, after) {
				t.Errorf("failed refresh changed the cache dir:\nbefore %q\nafter  %q", keys(before), keys(after))
			}
		})
	}
}

func TestFetchWarnsWhenRefreshCannotBeSaved(t *testing.T) {
	c := newCache(t, t.TempDir(), nil)
	name := cache.Name("unsaveable")
	// A non-empty directory where the entry belongs: the read is a miss and
	// the rename of the new entry over it fails, even for root.
	if err := os.MkdirAll(filepath.Join(entryFile(c, name), "blocker"), 0o700); err != nil {
		t.Fatal(err)
	}
	r := &refresher{entry: cache.Entry{Expires: t0.Add(time.Hour), Payload: []byte("not saved")}}
	e, res, err := c.Fetch(t.Context(), name, cache.Policy{Window: window}, r.fn)
	if err != nil {
		t.Fatalf("Fetch: %v; a failed save must not fail the fetch", err)
	}
	if string(e.Payload) != "not saved" || res.Hit {
		t.Errorf("Fetch = %q, %+v; want the refreshed entry", e.Payload, res)
	}
	if res.Warning == "" {
		t.Error("no warning that the entry could not be cached")
	}
	if strings.Contains(res.Warning, "not saved") {
		t.Errorf("warning %q reveals the payload", res.Warning)
	}
	assertNoTempFiles(t, c.Dir())
}

func TestFetchSingleFlightAcrossCacheInstances(t *testing.T) {
	const n = 32
	dir := t.TempDir()
	var calls atomic.Int32
	// started counts Fetch calls that have begun (each reads its clock
	// first); refresh waits for all of them, so every Fetch starts before
	// any entry exists and the others must wait on the lock.
	var started sync.WaitGroup
	started.Add(n)
	refresh := func(ctx context.Context) (cache.Entry, error) {
		calls.Add(1)
		waitGroup(ctx, &started)
		return cache.Entry{Expires: t0.Add(time.Hour), Payload: []byte("the one payload")}, nil
	}
	caches := make([]*cache.Cache, n)
	for i := range caches {
		var once sync.Once
		caches[i] = newCache(t, dir, func() time.Time {
			once.Do(started.Done)
			return t0
		})
	}

	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second) // liveness bound
	defer cancel()
	payloads := make([][]byte, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i, c := range caches {
		wg.Go(func() {
			e, _, err := c.Fetch(ctx, cache.Name("single", "flight"), cache.Policy{Window: window}, refresh)
			payloads[i], errs[i] = e.Payload, err
		})
	}
	wg.Wait()

	if got := calls.Load(); got != 1 {
		t.Errorf("refresh called %d times by %d concurrent fetches, want exactly 1", got, n)
	}
	for i := range n {
		if errs[i] != nil {
			t.Errorf("fetch %d: %v", i, errs[i])
		} else if string(payloads[i]) != "the one payload" {
			t.Errorf("fetch %d got payload %q", i, payloads[i])
		}
	}
}

// waitGroup waits for wg or ctx, whichever comes first.
func waitGroup(ctx context.Context, wg *sync.WaitGroup) {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
	}
}

func TestFetchUsesEntryStoredWhileWaitingForLock(t *testing.T) {
	for _, force := range []bool{false, true} {
		t.Run(fmt.Sprintf("Force=%v", force), func(t *testing.T) {
			dir := t.TempDir()
			name := cache.Name("waited")
			other := newCache(t, dir, func() time.Time { return t0.Add(time.Second) })
			if force {
				// A fresh entry from before: Force must not serve it.
				if err := other.Put(name, cache.Entry{Expires: t0.Add(time.Hour), Written: t0.Add(-time.Hour), Payload: []byte("before")}); err != nil {
					t.Fatal(err)
				}
			}
			unlock, err := other.Lock(t.Context(), name)
			if err != nil {
				t.Fatal(err)
			}

			began := make(chan struct{})
			var once sync.Once
			c := newCache(t, dir, func() time.Time {
				once.Do(func() { close(began) })
				return t0
			})
			type result struct {
				e   cache.Entry
				res cache.Result
				err error
			}
			out := make(chan result, 1)
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second) // liveness bound
			defer cancel()
			go func() {
				e, res, err := c.Fetch(ctx, name, cache.Policy{Window: window, Force: force}, mustNotRefresh(t))
				out <- result{e, res, err}
			}()
			<-began
			// The other process finishes its refresh while we wait.
			if err := other.Put(name, cache.Entry{Expires: t0.Add(time.Hour), Payload: []byte("theirs")}); err != nil {
				t.Fatal(err)
			}
			unlock()

			r := <-out
			if r.err != nil {
				t.Fatalf("Fetch: %v", r.err)
			}
			if string(r.e.Payload) != "theirs" || !r.res.Hit {
				t.Errorf("Fetch = %q, %+v; want the entry the lock holder stored", r.e.Payload, r.res)
			}
		})
	}
}

func TestFetchWithHeldLock(t *testing.T) {
	tests := []struct {
		name      string
		fresh     bool
		wantErr   error
		wantEntry string
	}{
		{"fresh entry is served without waiting for the lock", true, nil, "fresh"},
		{"no entry times out with ErrLockTimeout", false, cache.ErrLockTimeout, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			name := cache.Name("held")
			holder := newCache(t, dir, nil)
			if tt.fresh {
				putExpiring(time.Hour, []byte("fresh"))(t, holder, name)
			}
			unlock, err := holder.Lock(t.Context(), name)
			if err != nil {
				t.Fatal(err)
			}
			defer unlock()
			ctx, cancel := context.WithCancel(t.Context())
			cancel()
			e, _, err := newCache(t, dir, nil).Fetch(ctx, name, cache.Policy{Window: window}, mustNotRefresh(t))
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("Fetch error = %v, want %v", err, tt.wantErr)
			}
			if string(e.Payload) != tt.wantEntry {
				t.Errorf("Fetch payload = %q, want %q", e.Payload, tt.wantEntry)
			}
		})
	}
}
