package process

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/smithy-go"
)

func TestParseExpirationReadsRFC3339VariantsAsUTC(t *testing.T) {
	want := time.Date(2026, 11, 22, 8, 50, 25, 0, time.UTC)
	for _, tc := range []struct {
		name string
		in   string
		want time.Time
	}{
		{"Z", "2026-11-22T08:50:25Z", want},
		{"fractional seconds", "2026-11-22T08:50:25.123456Z", want.Add(123456 * time.Microsecond)},
		{"nanoseconds", "2026-11-22T08:50:25.000000001Z", want.Add(time.Nanosecond)},
		{"offset converted to UTC", "2026-11-22T10:50:25+02:00", want},
		{"negative offset", "2026-11-22T03:50:25-05:00", want},
		{"fraction and offset", "2026-11-22T10:50:25.5+02:00", want.Add(500 * time.Millisecond)},
		{"no zone is UTC", "2026-11-22T08:50:25", want},
		{"no zone with fraction", "2026-11-22T08:50:25.25", want.Add(250 * time.Millisecond)},
		{"space separator", "2026-11-22 08:50:25Z", want},
		{"space separator no zone", "2026-11-22 08:50:25", want},
		{"space separator with offset", "2026-11-22 10:50:25+02:00", want},
		{"surrounding white space", "  2026-11-22T08:50:25Z\n", want},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseExpiration(tc.in)
			if err != nil {
				t.Fatalf("ParseExpiration(%q): %v", tc.in, err)
			}
			if !got.Equal(tc.want) {
				t.Errorf("ParseExpiration(%q) = %v, want %v", tc.in, got, tc.want)
			}
			if got.Location() != time.UTC {
				t.Errorf("ParseExpiration(%q) is in %v, want UTC", tc.in, got.Location())
			}
		})
	}
}

func TestParseExpirationRejectsGarbage(t *testing.T) {
	for _, s := range []string{"", "garbage", "1763801425", "2026-11-22", "22/11/2026 08:50:25", "2026-13-22T08:50:25Z", "2026-11-22T25:50:25Z", "2026-11-22T08:50:25ZZ", "Sun, 22 Nov 2026 08:50:25 GMT"} {
		t.Run(fmt.Sprintf("%q", s), func(t *testing.T) {
			got, err := ParseExpiration(s)
			if err == nil {
				t.Errorf("ParseExpiration(%q) = %v, want an error", s, got)
			}
			if !got.IsZero() {
				t.Errorf("ParseExpiration(%q) returned %v with the error", s, got)
			}
		})
	}
}

// sdkWrap wraps err the way the SDK's operation errors do.
func sdkWrap(err error) error {
	return fmt.Errorf("operation error STS: AssumeRole, https response error StatusCode: 403, RequestID: 1234: %w", err)
}

const stsOp = "AssumeRole arn:aws:iam::123456789012:role/Dev"

func TestSTSFailureNamesTheCodeAndMessageWithAHint(t *testing.T) {
	for _, tc := range []struct {
		name      string
		err       error
		from      string
		msgWants  []string
		hintWants []string // nil: no hint expected
	}{
		{
			name:     "AccessDenied",
			err:      sdkWrap(&smithy.GenericAPIError{Code: "AccessDenied", Message: "User: arn:aws:iam::123456789012:user/alice is not authorized to perform: sts:AssumeRole"}),
			from:     "env",
			msgWants: []string{stsOp, "AccessDenied", "is not authorized to perform: sts:AssumeRole"},
		},
		{
			name:      "ExpiredToken",
			err:       sdkWrap(&smithy.GenericAPIError{Code: "ExpiredToken", Message: "The security token included in the request is expired"}),
			from:      "profile:cloud9",
			msgWants:  []string{stsOp, "ExpiredToken", "The security token included in the request is expired"},
			hintWants: []string{"profile:cloud9", "expired"},
		},
		{
			name:      "InvalidClientTokenId",
			err:       sdkWrap(&smithy.GenericAPIError{Code: "InvalidClientTokenId", Message: "The security token included in the request is invalid."}),
			from:      "stored:work",
			msgWants:  []string{stsOp, "InvalidClientTokenId", "The security token included in the request is invalid."},
			hintWants: []string{"stored:work", "not valid"},
		},
		{
			name:      "UnrecognizedClientException",
			err:       sdkWrap(&smithy.GenericAPIError{Code: "UnrecognizedClientException", Message: "The security token included in the request is invalid."}),
			from:      "env",
			msgWants:  []string{"UnrecognizedClientException"},
			hintWants: []string{"env"},
		},
		{
			name:      "ValidationError on the duration",
			err:       sdkWrap(&smithy.GenericAPIError{Code: "ValidationError", Message: "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."}),
			from:      "env",
			msgWants:  []string{"ValidationError", "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."},
			hintWants: []string{"--duration"},
		},
		{
			name:     "ValidationError on something else",
			err:      sdkWrap(&smithy.GenericAPIError{Code: "ValidationError", Message: "1 validation error detected: Value at 'roleSessionName' failed to satisfy constraint"}),
			from:     "env",
			msgWants: []string{"ValidationError", "roleSessionName"},
		},
		{
			name:      "RegionDisabledException",
			err:       sdkWrap(&smithy.GenericAPIError{Code: "RegionDisabledException", Message: "STS is not activated in this region"}),
			from:      "env",
			msgWants:  []string{"RegionDisabledException"},
			hintWants: []string{"--region"},
		},
		{
			name:     "multi-line message becomes one line",
			err:      sdkWrap(&smithy.GenericAPIError{Code: "AccessDenied", Message: "first line\n  second\tline\r\n"}),
			from:     "env",
			msgWants: []string{"AccessDenied: first line second line"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := stsFailure(tc.err, stsOp, tc.from)
			if e.Exit != ExitFailure {
				t.Errorf("exit %d, want %d", e.Exit, ExitFailure)
			}
			if !errors.Is(e, tc.err) {
				t.Errorf("the *Error does not wrap the SDK error")
			}
			if strings.ContainsAny(e.Msg, "\r\n") || strings.ContainsAny(e.Hint, "\r\n") {
				t.Errorf("message or hint is not one line: %q / %q", e.Msg, e.Hint)
			}
			for _, w := range tc.msgWants {
				if !strings.Contains(e.Msg, w) {
					t.Errorf("message %q does not contain %q", e.Msg, w)
				}
			}
			if tc.hintWants == nil && e.Hint != "" {
				t.Errorf("unexpected hint %q", e.Hint)
			}
			for _, w := range tc.hintWants {
				if !strings.Contains(e.Hint, w) {
					t.Errorf("hint %q does not contain %q", e.Hint, w)
				}
			}
		})
	}
}

func TestSTSFailureExplainsNetworkFailures(t *testing.T) {
	refused := &url.Error{Op: "Post", URL: "https://sts.eu-west-1.amazonaws.com/", Err: &net.OpError{
		Op: "dial", Net: "tcp", Addr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1}, Err: &os.SyscallError{Syscall: "connect", Err: syscall.ECONNREFUSED},
	}}
	noHost := &url.Error{Op: "Post", URL: "https://sts.nowhere.invalid/", Err: &net.OpError{
		Op: "dial", Net: "tcp", Err: &net.DNSError{Err: "no such host", Name: "sts.nowhere.invalid", IsNotFound: true},
	}}
	for _, tc := range []struct {
		name      string
		err       error
		msgWants  []string
		hintWants []string
	}{
		{
			name:      "connection refused",
			err:       sdkWrap(refused),
			msgWants:  []string{stsOp, "cannot reach", "https://sts.eu-west-1.amazonaws.com/", "connection refused"},
			hintWants: []string{"could not be reached", "AWS_ENDPOINT_URL_STS"},
		},
		{
			name:      "unknown host",
			err:       sdkWrap(noHost),
			msgWants:  []string{stsOp, "cannot reach", "https://sts.nowhere.invalid/", "no such host"},
			hintWants: []string{"could not be reached"},
		},
		{
			name:      "deadline",
			err:       sdkWrap(context.DeadlineExceeded),
			msgWants:  []string{stsOp, "no answer before the deadline"},
			hintWants: []string{"--timeout"},
		},
		{
			name:      "deadline inside a url.Error",
			err:       sdkWrap(&url.Error{Op: "Post", URL: "https://sts.amazonaws.com/", Err: context.DeadlineExceeded}),
			msgWants:  []string{stsOp, "no answer before the deadline"},
			hintWants: []string{"--timeout"},
		},
		{
			name:     "other error",
			err:      errors.New("something\nodd"),
			msgWants: []string{stsOp + ": something odd"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := stsFailure(tc.err, stsOp, "env")
			if e.Exit != ExitFailure {
				t.Errorf("exit %d, want %d", e.Exit, ExitFailure)
			}
			if !errors.Is(e, tc.err) {
				t.Errorf("the *Error does not wrap the cause")
			}
			if strings.ContainsAny(e.Msg, "\r\n") {
				t.Errorf("message is not one line: %q", e.Msg)
			}
			for _, w := range tc.msgWants {
				if !strings.Contains(e.Msg, w) {
					t.Errorf("message %q does not contain %q", e.Msg, w)
				}
			}
			for _, w := range tc.hintWants {
				if !strings.Contains(e.Hint, w) {
					t.Errorf("hint %q does not contain %q", e.Hint, w)
				}
			}
		})
	}
}

// TestSTSFailureAddsNoSecrets: whatever the error, the message and hint
// hold only the operation, the source name and what the error said; the
// secrets in the environment never enter them.
func TestSTSFailureAddsNoSecrets(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDSECRETMARKER1")
	t.Setenv("AWS_SECRET_ACCESS_KEY", secretMarker)
	t.Setenv("AWS_SESSION_TOKEN", tokenMarker)
	t.Setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", authTokenMarker)
	errs := []error{
		&smithy.GenericAPIError{Code: "AccessDenied", Message: "denied"},
		&smithy.GenericAPIError{Code: "ExpiredToken", Message: "expired"},
		&smithy.GenericAPIError{Code: "InvalidClientTokenId", Message: "invalid"},
		&smithy.GenericAPIError{Code: "SignatureDoesNotMatch", Message: "signature"},
		&smithy.GenericAPIError{Code: "ValidationError", Message: "DurationSeconds exceeds"},
		&smithy.GenericAPIError{Code: "RegionDisabledException", Message: "disabled"},
		&url.Error{Op: "Post", URL: "https://sts.amazonaws.com/", Err: errors.New("dial tcp: connection refused")},
		context.DeadlineExceeded,
		errors.New("plain"),
	}
	for _, err := range errs {
		e := stsFailure(sdkWrap(err), stsOp, "env")
		for _, secret := range []string{"AKIDSECRETMARKER1", secretMarker, tokenMarker, authTokenMarker} {
			if strings.Contains(e.Msg, secret) || strings.Contains(e.Hint, secret) {
				t.Errorf("stsFailure(%v) put a secret into %q / %q", err, e.Msg, e.Hint)
			}
		}
	}
}
