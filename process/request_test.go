package process

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"
)

// usageError asserts that err is a *Error with exit code 2 whose message
// contains every string in wants.
func usageError(t *testing.T, err error, wants ...string) *Error {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want a usage error containing %q", wants)
	}
	e, ok := err.(*Error)
	if !ok {
		t.Fatalf("error %v is a %T, want *process.Error", err, err)
	}
	if e.Exit != ExitUsage {
		t.Errorf("exit code %d, want %d (usage) for %q", e.Exit, ExitUsage, e.Msg)
	}
	for _, w := range wants {
		if !strings.Contains(e.Msg, w) {
			t.Errorf("message %q does not contain %q", e.Msg, w)
		}
	}
	return e
}

// mapEnv is a Request.Getenv backed by a map; missing keys read as "".
func mapEnv(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestParseRoleARNAcceptsRoleARNsInEveryPartition(t *testing.T) {
	for _, arn := range []string{
		"arn:aws:iam::123456789012:role/Dev",
		"arn:aws:iam::123456789012:role/team/Dev",
		"arn:aws:iam::123456789012:role/a/b/c/Dev",
		"arn:aws:iam::123456789012:role/service-role/My+Role=,.@_-1",
		"arn:aws-cn:iam::123456789012:role/Dev",
		"arn:aws-us-gov:iam::123456789012:role/Dev",
		"arn:aws:iam::123456789012:role/" + strings.Repeat("r", 64),
	} {
		t.Run(arn, func(t *testing.T) {
			got, err := ParseRoleARN(arn)
			if err != nil {
				t.Fatalf("ParseRoleARN(%q): %v", arn, err)
			}
			if got != arn {
				t.Errorf("ParseRoleARN(%q) = %q, want it unchanged", arn, got)
			}
		})
	}
}

func TestParseRoleARNRejectsNonRoleARNsAsUsageErrors(t *testing.T) {
	for _, s := range []string{
		"",
		" ",
		"garbage",
		"Dev",
		"arn:aws:iam::123456789012:user/x",
		"arn:aws:iam::123456789012:group/Dev",
		"arn:aws:iam::12345678901:role/Dev",   // 11 digits
		"arn:aws:iam::1234567890123:role/Dev", // 13 digits
		"arn:aws:iam::12345678901a:role/Dev",
		"arn:aws:iam::123456789012:role",
		"arn:aws:iam::123456789012:role/",
		"arn:aws:iam::123456789012:role/team/",
		"arn:aws:iam:::role/Dev",
		"arn:aws:sts::123456789012:role/Dev",
		"arn:aws:sts::123456789012:assumed-role/Dev/session",
		"arn:azure:iam::123456789012:role/Dev",
		"arn:aws:iam::123456789012:role/Dev Space",
		"arn:aws:iam::123456789012:role/Dév",
		"arn:aws:iam::123456789012:role/Dev\n",
		" arn:aws:iam::123456789012:role/Dev",
		"arn:aws:iam::123456789012:role/" + strings.Repeat("r", 65),
	} {
		t.Run(fmt.Sprintf("%q", s), func(t *testing.T) {
			got, err := ParseRoleARN(s)
			if got != "" {
				t.Errorf("ParseRoleARN(%q) returned %q with the error", s, got)
			}
			usageError(t, err, fmt.Sprintf("%q", s), "arn:aws:iam::123456789012:role/NAME")
		})
	}
}

func TestParseDurationAcceptsGoDurationsAndWholeSecondsInRange(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
	}{
		{"1h", time.Hour},
		{"3600", time.Hour},
		{"15m", 15 * time.Minute},
		{"900", 15 * time.Minute},
		{"90m", 90 * time.Minute},
		{"1h30m", 90 * time.Minute},
		{"12h", 12 * time.Hour},
		{"43200", 12 * time.Hour},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseDuration("--duration", tc.in, MinDuration, MaxDuration)
			if err != nil {
				t.Fatalf("ParseDuration(%q): %v", tc.in, err)
			}
			if got != tc.want {
				t.Errorf("ParseDuration(%q) = %v, want %v", tc.in, got, tc.want)
			}
		})
	}
}

func TestParseDurationRejectsOutOfRangeAndMalformedValues(t *testing.T) {
	for _, s := range []string{
		"5m", "13h", "abc", "-1", "1.5s", "", "899", "43201", "14m59s", "12h1s",
		"-1h", "1h0.5s", "1 h", "3600s ", "99999999999999999999",
	} {
		t.Run(fmt.Sprintf("%q", s), func(t *testing.T) {
			got, err := ParseDuration("--duration", s, MinDuration, MaxDuration)
			if got != 0 {
				t.Errorf("ParseDuration(%q) returned %v with the error", s, got)
			}
			usageError(t, err, "--duration", fmt.Sprintf("%q", s), "15m", "12h")
		})
	}
}

func TestParseSessionNameFollowsSTSRules(t *testing.T) {
	for _, s := range []string{"ab", "c9cred-alice@ip-10-0-0-1", "a+=,.@_-b", strings.Repeat("n", 64)} {
		if got, err := ParseSessionName(s); err != nil || got != s {
			t.Errorf("ParseSessionName(%q) = %q, %v; want it accepted unchanged", s, got, err)
		}
	}
	for _, s := range []string{"", "a", strings.Repeat("n", 65), "has space", "na/me", "nämé", "semi;colon", "tab\there"} {
		t.Run(fmt.Sprintf("%q", s), func(t *testing.T) {
			_, err := ParseSessionName(s)
			usageError(t, err, "--session-name", fmt.Sprintf("%q", s), "2 to 64")
		})
	}
}

func TestParseExternalIDFollowsSTSRules(t *testing.T) {
	for _, s := range []string{"", "ab", "Partner-123:x/y_z+=,.@", strings.Repeat("e", 1224)} {
		if got, err := ParseExternalID(s); err != nil || got != s {
			t.Errorf("ParseExternalID(%q) = %q, %v; want it accepted unchanged", s, got, err)
		}
	}
	for _, s := range []string{"a", strings.Repeat("e", 1225), "has space", "hash#tag", "quote'", "ünï"} {
		t.Run(fmt.Sprintf("%.20q", s), func(t *testing.T) {
			_, err := ParseExternalID(s)
			usageError(t, err, "--external-id", fmt.Sprintf("%q", s), "2 to 1224")
		})
	}
}

func TestParseRegionAcceptsRegionNamesAndEmpty(t *testing.T) {
	for _, s := range []string{"", "us-east-1", "eu-west-2", "us-gov-west-1", "cn-north-1", "ap-southeast-5"} {
		got, err := ParseRegion(s)
		if err != nil || got != s {
			t.Errorf("ParseRegion(%q) = %q, %v; want it accepted unchanged", s, got, err)
		}
	}
	for _, s := range []string{"US-EAST-1", "us-east", "useast1", "us-east-1 ", " us-east-1", "us_east_1", "us-east-1a", "x"} {
		t.Run(fmt.Sprintf("%q", s), func(t *testing.T) {
			_, err := ParseRegion(s)
			usageError(t, err, "--region", fmt.Sprintf("%q", s), "us-east-1")
		})
	}
}

func TestParseSourceAcceptsEverySpelling(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want SourceSpec
	}{
		{"auto", SourceSpec{Kind: "auto"}},
		{"env", SourceSpec{Kind: "env"}},
		{"profile:dev", SourceSpec{Kind: "profile", Name: "dev"}},
		{"profile:my.team_dev-1@x", SourceSpec{Kind: "profile", Name: "my.team_dev-1@x"}},
		{"container", SourceSpec{Kind: "container"}},
		{"imds", SourceSpec{Kind: "imds"}},
		{"stored:work", SourceSpec{Kind: "stored", Name: "work"}},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseSource(tc.in)
			if err != nil {
				t.Fatalf("ParseSource(%q): %v", tc.in, err)
			}
			if got != tc.want {
				t.Errorf("ParseSource(%q) = %+v, want %+v", tc.in, got, tc.want)
			}
			if got.String() != tc.in {
				t.Errorf("ParseSource(%q).String() = %q, want the input back", tc.in, got.String())
			}
		})
	}
}

func TestParseSourceRejectsUnknownOrMalformedSourcesListingAccepted(t *testing.T) {
	for _, s := range []string{
		"", "profile", "profile:", "bogus", "env:x", "auto:", "profile:a b", "profile:-dev",
		"profile:a:b", "stored", "stored:", "imds:x", "Profile:dev", "profile:" + strings.Repeat("p", 65),
	} {
		t.Run(fmt.Sprintf("%q", s), func(t *testing.T) {
			_, err := ParseSource(s)
			usageError(t, err, "--source", fmt.Sprintf("%q", s),
				"auto, container, env, imds, profile:NAME, stored:NAME")
		})
	}
}

var allFormats = []string{"docker", "dotenv", "env", "export", "fish", "ini", "json", "powershell"}

func TestParseFormatAcceptsEveryFormat(t *testing.T) {
	for _, f := range allFormats {
		if got, err := ParseFormat(f); err != nil || got != f {
			t.Errorf("ParseFormat(%q) = %q, %v; want it accepted", f, got, err)
		}
	}
	if got := strings.Join(Formats(), " "); got != strings.Join(allFormats, " ") {
		t.Errorf("Formats() = %q, want %q", got, allFormats)
	}
}

func TestParseFormatRejectsUnknownFormatListingAll(t *testing.T) {
	for _, s := range []string{"yaml", "", "JSON", "export "} {
		t.Run(fmt.Sprintf("%q", s), func(t *testing.T) {
			_, err := ParseFormat(s)
			usageError(t, err, append([]string{"--format", fmt.Sprintf("%q", s)}, allFormats...)...)
		})
	}
}

var stsSessionNameRE = regexp.MustCompile(`^[\w+=,.@-]{2,64}$`)

func TestSanitizeSessionNameAlwaysMeetsSTSRules(t *testing.T) {
	for _, s := range []string{
		"",
		"a",
		"@",
		"@@@---",
		"has spaces in it",
		"tab\tand\nnewline\x00nul",
		"日本語ユーザー",
		"émile@hôte",
		"😀😀😀",
		strings.Repeat("x", 500),
		strings.Repeat("é", 100),
		strings.Repeat("a", 63) + "é",
		"c9cred-@",
		"c9cred-" + strings.Repeat("u", 60) + "@" + strings.Repeat("h", 60),
		"semi;colon/slash\\back\"quote'",
	} {
		t.Run(fmt.Sprintf("%.30q", s), func(t *testing.T) {
			got := SanitizeSessionName(s)
			if !stsSessionNameRE.MatchString(got) {
				t.Errorf("SanitizeSessionName(%q) = %q, does not match %s", s, got, stsSessionNameRE)
			}
		})
	}
}

func TestSanitizeSessionNameKeepsValidNames(t *testing.T) {
	for _, s := range []string{"ab", "c9cred-alice@ip-10-0-0-1", "a+=,.@_-b", strings.Repeat("n", 64)} {
		if got := SanitizeSessionName(s); got != s {
			t.Errorf("SanitizeSessionName(%q) = %q, want it unchanged", s, got)
		}
	}
}

func TestDefaultSessionNameNamesTheUserWithinSTSRules(t *testing.T) {
	for _, tc := range []struct {
		name    string
		env     map[string]string
		contain string
	}{
		{"user", map[string]string{"USER": "alice"}, "alice"},
		{"username fallback", map[string]string{"USERNAME": "bob"}, "bob"},
		{"user wins over username", map[string]string{"USER": "carol", "USERNAME": "bob"}, "carol"},
		{"hostile user", map[string]string{"USER": "al ice/é$(id)"}, "al-ice"},
		{"very long user", map[string]string{"USER": strings.Repeat("u", 300)}, "c9cred-uuu"},
		{"empty user", map[string]string{}, "c9cred-"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := DefaultSessionName(mapEnv(tc.env))
			if !stsSessionNameRE.MatchString(got) {
				t.Errorf("DefaultSessionName = %q, does not match %s", got, stsSessionNameRE)
			}
			if !strings.Contains(got, tc.contain) {
				t.Errorf("DefaultSessionName = %q, want it to contain %q", got, tc.contain)
			}
			if !strings.HasPrefix(got, "c9cred-") {
				t.Errorf("DefaultSessionName = %q, want prefix c9cred-", got)
			}
		})
	}
}

const (
	secretMarker    = "SECRETMARKER/wJalrXUtnFEMIK7MDENG"
	tokenMarker     = "TOKENMARKER/IQoJb3JpZ2luX2VjEJr"
	authTokenMarker = "AUTHTOKENMARKER-cloudshell"
)

func cacheKeyRequest() Request {
	return Request{
		Source:      SourceSpec{Kind: "env"},
		RoleARN:     "arn:aws:iam::123456789012:role/Dev",
		SessionName: "c9cred-alice",
		Duration:    time.Hour,
		ExternalID:  "ext-1",
		Region:      "eu-west-1",
		Getenv: mapEnv(map[string]string{
			"AWS_ACCESS_KEY_ID":                 "AKIDEXAMPLE",
			"AWS_SECRET_ACCESS_KEY":             secretMarker,
			"AWS_SESSION_TOKEN":                 tokenMarker,
			"AWS_CONTAINER_AUTHORIZATION_TOKEN": authTokenMarker,
			"AWS_ENDPOINT_URL_STS":              "http://127.0.0.1:5000",
		}),
	}
}

func TestCacheKeyPartsNeverHoldSecrets(t *testing.T) {
	for _, src := range []string{"auto", "env", "profile:dev", "container", "imds", "stored:work"} {
		t.Run(src, func(t *testing.T) {
			r := cacheKeyRequest()
			var err error
			if r.Source, err = ParseSource(src); err != nil {
				t.Fatal(err)
			}
			for _, p := range r.CacheKeyParts() {
				for _, secret := range []string{secretMarker, tokenMarker, authTokenMarker} {
					if strings.Contains(p, secret) {
						t.Errorf("cache key part %q holds a secret", p)
					}
				}
			}
		})
	}
}

func TestCacheKeyPartsDifferWhenTheRequestDiffers(t *testing.T) {
	key := func(r Request) string { return strings.Join(r.CacheKeyParts(), "\x00") }
	base := key(cacheKeyRequest())
	withEnv := func(k, v string) func(*Request) {
		return func(r *Request) {
			old := r.Getenv
			r.Getenv = func(name string) string {
				if name == k {
					return v
				}
				return old(name)
			}
		}
	}
	for _, tc := range []struct {
		name   string
		change func(*Request)
	}{
		{"role", func(r *Request) { r.RoleARN = "arn:aws:iam::123456789012:role/Other" }},
		{"no role", func(r *Request) { r.RoleARN = "" }},
		{"duration", func(r *Request) { r.Duration = 2 * time.Hour }},
		{"region", func(r *Request) { r.Region = "us-east-1" }},
		{"external id", func(r *Request) { r.ExternalID = "ext-2" }},
		{"session name", func(r *Request) { r.SessionName = "c9cred-bob" }},
		{"source kind", func(r *Request) { r.Source = SourceSpec{Kind: "imds"} }},
		{"source profile name", func(r *Request) { r.Source = SourceSpec{Kind: "profile", Name: "other"} }},
		{"AWS_ENDPOINT_URL_STS", withEnv("AWS_ENDPOINT_URL_STS", "http://127.0.0.1:5001")},
		{"AWS_ENDPOINT_URL", withEnv("AWS_ENDPOINT_URL", "http://127.0.0.1:5002")},
		{"AWS_REGION", withEnv("AWS_REGION", "ap-south-1")},
		{"env access key id", withEnv("AWS_ACCESS_KEY_ID", "AKIDOTHER")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := cacheKeyRequest()
			tc.change(&r)
			if key(r) == base {
				t.Errorf("changing the %s leaves the cache key parts unchanged: %q", tc.name, r.CacheKeyParts())
			}
		})
	}
	// The same request gives the same parts, and secrets do not enter them.
	same := cacheKeyRequest()
	withEnv("AWS_SECRET_ACCESS_KEY", "another-secret-value")(&same)
	withEnv("AWS_SESSION_TOKEN", "another-token-value")(&same)
	if key(same) != base {
		t.Errorf("cache key parts depend on the secret key or session token")
	}
}
