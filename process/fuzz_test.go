package process

import (
	"context"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// FuzzRequestParsing: no input panics a parser, and whatever a parser
// accepts is in the form STS and the rest of c9cred rely on.
func FuzzRequestParsing(f *testing.F) {
	for _, s := range []string{"arn:aws:iam::123456789012:role/Dev", "1h", "3600", "profile:dev", "stored:work", "c9cred-alice@host",
		"2026-11-22T08:50:25.123+02:00", `"/opt/my tools/c9cred" --role x`, "", "\x00", "profile:", "99999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if arn, err := ParseRoleARN(s); err == nil && !strings.HasPrefix(arn, "arn:aws") {
			t.Errorf("accepted role %q", arn)
		}
		if d, err := ParseDuration("--duration", s, MinDuration, MaxDuration); err == nil && (d < MinDuration || d > MaxDuration) {
			t.Errorf("accepted duration %q = %s", s, d)
		}
		if n, err := ParseSessionName(s); err == nil && SanitizeSessionName(n) != n {
			t.Errorf("accepted session name %q that sanitising changes", n)
		}
		if !sessionNameRE().MatchString(SanitizeSessionName(s)) {
			t.Errorf("SanitizeSessionName(%q) = %q breaks STS's rules", s, SanitizeSessionName(s))
		}
		if spec, err := ParseSource(s); err == nil {
			if again, err := ParseSource(spec.String()); err != nil || again != spec {
				t.Errorf("source %q does not round-trip", s)
			}
		}
		if tm, err := ParseExpiration(s); err == nil && tm.Location() != time.UTC {
			t.Errorf("expiration %q not in UTC", s)
		}
		SplitCommand(s)
		UnmarshalPayload([]byte(s))
	})
}

// FuzzContainerResponse: whatever a container endpoint answers, the
// container source returns complete credentials or an error that does not
// echo the authorization token, and never panics.
func FuzzContainerResponse(f *testing.F) {
	for _, s := range []string{`{"AccessKeyId":"ASIA1","SecretAccessKey":"s","Token":"t","Expiration":"2099-01-01T00:00:00Z"}`,
		`{}`, `not json`, `{"AccessKeyId":1}`, `{"Expiration":"yesterday"}`, ``, `null`, `[]`} {
		f.Add(s, 200)
	}
	f.Add(`{"code":"AccessDenied","message":"no"}`, 403)
	var body atomic.Pointer[string]
	var status atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(int(status.Load()))
		w.Write([]byte(*body.Load()))
	}))
	defer srv.Close()
	const token = "fuzz-secret-TOKEN-0123456789"
	f.Setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", srv.URL+"/creds")
	f.Setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", token)
	f.Fuzz(func(t *testing.T, b string, code int) {
		if code < 200 || code > 599 {
			code = 200
		}
		body.Store(&b)
		status.Store(int64(code))
		r := &Request{Source: SourceSpec{Kind: "container"}, Timeout: 5 * time.Second}
		c, err := r.retrieveBase(context.Background())
		if err != nil {
			if strings.Contains(err.Error(), token) || strings.Contains(AsError(err).Hint, token) {
				t.Errorf("error echoes the token: %v", err)
			}
			return
		}
		if c.AccessKeyID == "" || c.SecretAccessKey == "" {
			t.Errorf("incomplete credentials accepted from %q", b)
		}
	})
}

// roleARNPattern is the documented form of a role ARN; validRoleARN must
// agree with it on every input.
var roleARNPattern = regexp.MustCompile(`^arn:aws(-cn|-us-gov|-iso|-iso-[a-z]|-eusc)?:iam::[0-9]{12}:role/([\x21-\x7e]*/)?[\w+=,.@-]{1,64}$`)

func FuzzRoleARNMatchesThePattern(f *testing.F) {
	for _, s := range []string{"arn:aws:iam::123456789012:role/Dev", "arn:aws-iso-b:iam::123456789012:role/a/b/c", "arn:aws:iam::123456789012:role/",
		"arn:aws:iam::123456789012:role//x", "arn:aws-cn:iam::12345678901:role/x", "arn:aws:iam::123456789012:user/x", "arn:aws:iam::123456789012:role/a b/c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want := roleARNPattern.MatchString(s) && len(s) <= 2048
		if got := validRoleARN(s); got != want {
			t.Errorf("validRoleARN(%q) = %v, the pattern says %v", s, got, want)
		}
	})
}
