package main

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"c9cred/internal/testenv"
)

func TestSTSFaultsEndInBoundedTimeWithTheReason(t *testing.T) {
	cases := []struct {
		name      string
		faults    []testenv.Fault
		args      []string
		want      []string
		wantCalls int64
		bound     time.Duration
	}{
		{"throttling is retried then reported", []testenv.Fault{{Status: 400, Code: "Throttling", Message: "Rate exceeded"}},
			nil, []string{"Throttling", "Rate exceeded", "hint: "}, 3, 15 * time.Second},
		{"5xx is retried then reported", []testenv.Fault{{Status: 503, Code: "ServiceUnavailable", Message: "try later"}},
			nil, []string{"ServiceUnavailable", "hint: "}, 3, 15 * time.Second},
		{"a transient 5xx is ridden out", []testenv.Fault{{Status: 500, Code: "InternalFailure", Message: "oops"}, {}},
			nil, nil, 2, 15 * time.Second},
		{"malformed XML", []testenv.Fault{{Status: 200, Raw: "<html><body>Welcome to the hotel wifi</body>"}},
			nil, []string{"unexpected reply", "hint: "}, 1, 15 * time.Second},
		{"slow STS hits the deadline", []testenv.Fault{{Delay: 30 * time.Second}},
			[]string{"--timeout", "3s"}, []string{"hint: "}, 0, 10 * time.Second},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sts := testenv.NewFaultSTS()
			defer sts.Close()
			sts.Set("AssumeRole", tc.faults...)
			w := newWorld(t, "AWS_ENDPOINT_URL_STS="+sts.URL)
			args := append([]string{"--role", testenv.RoleARN("Faults"), "--source", "env", "--cache", "file"}, tc.args...)
			r := w.c9(args...)
			if tc.want == nil {
				parseV1(t, r)
			} else {
				if r.code != 1 || r.stdout != "" {
					t.Fatalf("exit %d stdout %q, want 1 and empty; stderr %s", r.code, r.stdout, r.stderr)
				}
				for _, s := range tc.want {
					if !strings.Contains(r.stderr, s) {
						t.Errorf("stderr lacks %q:\n%s", s, r.stderr)
					}
				}
			}
			if got := sts.Calls("AssumeRole"); tc.wantCalls > 0 && got != tc.wantCalls {
				t.Errorf("AssumeRole attempts %d, want %d", got, tc.wantCalls)
			}
			if r.elapsed > tc.bound {
				t.Errorf("took %s, bound %s", r.elapsed, tc.bound)
			}
		})
	}
}

func TestFailedRefreshServesTheStillValidCachedSessionWithAWarning(t *testing.T) {
	sts := testenv.NewFaultSTS()
	defer sts.Close()
	sts.SetLifetime(16 * time.Minute) // STS may return less than asked for
	w := newWorld(t, "AWS_ENDPOINT_URL_STS="+sts.URL)
	role := testenv.RoleARN("Outage")
	first := parseV1(t, w.c9("--role", role, "--source", "env", "--duration", "20m", "--refresh-window", "5m"))
	sts.Set("AssumeRole", testenv.Fault{Status: 503, Code: "ServiceUnavailable", Message: "outage"})
	// An 18-minute window puts the 16-minute entry inside it: c9cred must
	// try STS, fail, and still hand out the valid session rather than lock
	// the user out.
	r := w.c9("--role", role, "--source", "env", "--duration", "20m", "--refresh-window", "18m")
	again := parseV1(t, r)
	if again.AccessKeyID != first.AccessKeyID || !strings.Contains(r.stderr, "refresh failed") {
		t.Errorf("got %s (first %s), stderr %q", again.AccessKeyID, first.AccessKeyID, r.stderr)
	}
}

func TestClearRemovesSessionsByRoleAndAllKeepsStoredKeys(t *testing.T) {
	requireMoto(t)
	w := newWorld(t)
	a, b := testenv.RoleARN("ClearA"), testenv.RoleARN("ClearB")
	parseV1(t, w.c9("--role", a, "--source", "env"))
	parseV1(t, w.c9("--role", b, "--source", "env"))
	if r := w.c9("clear", "--role", a); r.code != 0 || !strings.Contains(r.stderr, "removed 1 cached session") {
		t.Fatalf("clear --role: exit %d %q", r.code, r.stderr)
	}
	parseV1(t, w.c9("--role", a, "--source", "env"))
	parseV1(t, w.c9("--role", b, "--source", "env"))
	if ca, cb := assumeRoleCalls(t, a), assumeRoleCalls(t, b); ca != 2 || cb != 1 {
		t.Errorf("AssumeRole calls after clear --role A: A=%d (want 2) B=%d (want 1)", ca, cb)
	}
	w.passThrough = true
	id, secret := "AKIACLEARSTOREDKEY01", "clearSTOREDsecretValue/abcdefghij012345"
	if r := w.set("ID="+id, "SECRET="+secret, "C9="+c9bin).run("bash", "-c", `printf '%s\n%s\n' "$ID" "$SECRET" | "$C9" store keep --insecure-file`); r.code != 0 {
		t.Fatalf("store: %s", r.stderr)
	}
	if r := w.c9("clear", "--all"); r.code != 0 || !strings.Contains(r.stderr, "removed the cache data key") {
		t.Fatalf("clear --all: exit %d %q", r.code, r.stderr)
	}
	if entries, _ := filepath.Glob(filepath.Join(w.cacheDir(), "*.entry")); len(entries) != 0 {
		t.Errorf("entries left after --all: %v", entries)
	}
	if d := parseV1(t, w.c9("--source", "stored:keep")); d.AccessKeyID != id {
		t.Errorf("--all removed stored keys")
	}
	if r := w.c9("clear", "--stored"); r.code != 0 {
		t.Fatalf("clear --stored: %s", r.stderr)
	}
	if r := w.c9("--source", "stored:keep"); r.code != 2 {
		t.Errorf("stored keys still there after clear --stored: exit %d", r.code)
	}
}
