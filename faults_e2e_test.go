package main

import (
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
	sts.Lifetime = 16 * time.Minute // STS may return less than asked for
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
