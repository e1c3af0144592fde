package main

import (
	"math/rand/v2"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"c9cred/cache"
	"c9cred/internal/testenv"
	"c9cred/keychain"
)

// TestKillingC9credMidRefreshNeverLeavesATornEntry SIGKILLs c9cred at
// random moments of forced refreshes, over and over, then opens every
// entry left in the cache: each must be the previous entry or a new one,
// whole, never torn.
func TestKillingC9credMidRefreshNeverLeavesATornEntry(t *testing.T) {
	sts := testenv.NewFaultSTS()
	defer sts.Close()
	w := newWorld(t, "AWS_ENDPOINT_URL_STS="+sts.URL)
	role := testenv.RoleARN("Killed")
	args := []string{"--role", role, "--source", "env", "--cache", "file", "--force-refresh"}
	parseV1(t, w.c9(args...))
	killed := 0
	for i := 0; i < 40; i++ {
		cmd := exec.Command(c9bin, args...)
		cmd.Env = w.env
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(rand.IntN(25000)) * time.Microsecond)
		if cmd.Process.Kill() == nil {
			killed++
		}
		cmd.Wait()
	}
	if killed == 0 {
		t.Fatal("no run was killed")
	}
	key, err := keychain.ReadDataKey(t.Context(), &keychain.FileStore{Dir: w.cacheDir()})
	if err != nil {
		t.Fatalf("data key: %v", err)
	}
	c, err := cache.New(cache.Options{Dir: w.cacheDir(), Key: key, KeyID: keychain.Fingerprint(key)})
	if err != nil {
		t.Fatal(err)
	}
	names, _ := c.Names()
	if len(names) != 1 {
		t.Fatalf("entries %v, want the one entry", names)
	}
	if _, err := c.Get(names[0]); err != nil {
		t.Errorf("the entry left after %d kills does not open: %v", killed, err)
	}
	// Left-over temporary files of killed writers do not disturb readers,
	// and the next run is a plain cache hit.
	tmp, _ := filepath.Glob(filepath.Join(w.cacheDir(), ".*"))
	before := sts.Calls("AssumeRole")
	parseV1(t, w.c9(args[:len(args)-1]...))
	if sts.Calls("AssumeRole") != before {
		t.Errorf("the run after the kills was not a cache hit")
	}
	for _, p := range tmp {
		if !strings.Contains(filepath.Base(p), ".tmp-") {
			t.Errorf("unexpected hidden file %s", p)
		}
	}
}
