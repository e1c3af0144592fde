package process

import (
	"c9cred/internal/lazyre"
	"cmp"
	"fmt"
	"os"
	"os/user"
	"strconv"
	"strings"
	"time"
)

// Request is one credential request, validated before any network call.
type Request struct {
	Source      SourceSpec
	RoleARN     string // empty: pass the source's credentials through
	SessionName string
	Duration    time.Duration
	ExternalID  string
	Region      string // --region; empty: the SDK's resolution
	MFA         MFA
	// Base, when set, replaces the source's credentials (an MFA session
	// that the caller got from its cache).
	Base *Credentials
	// Timeout bounds the network calls (sources and STS), not the time a
	// person takes to type an MFA code.
	Timeout time.Duration
	// Getenv reads the environment; os.Getenv when nil.
	Getenv func(string) string
}

// Limits of AssumeRole's DurationSeconds.
const (
	MinDuration     = 15 * time.Minute
	MaxDuration     = 12 * time.Hour
	DefaultDuration = time.Hour
)

func (r *Request) getenv(k string) string {
	if r.Getenv == nil {
		return os.Getenv(k)
	}
	return r.Getenv(k)
}

// ParseRoleARN checks that s is an IAM role ARN.
func ParseRoleARN(s string) (string, error) {
	if !validRoleARN(s) {
		return "", Usagef("--role %q is not an IAM role ARN; expected arn:aws:iam::123456789012:role/NAME", s)
	}
	return s, nil
}

// validRoleARN is
// ^arn:aws(-cn|-us-gov|-iso|-iso-[a-z]|-eusc)?:iam::[0-9]{12}:role/([\x21-\x7e]*/)?[\w+=,.@-]{1,64}$
// (at most 2048 bytes) written as a loop: it runs on every cache hit, where
// compiling the pattern cost a quarter of c9cred's instructions.
// FuzzRoleARNMatchesThePattern holds it to the pattern.
func validRoleARN(s string) bool {
	rest, ok := strings.CutPrefix(s, "arn:aws")
	if !ok || len(s) > 2048 {
		return false
	}
	partition, rest, ok := strings.Cut(rest, ":")
	if !ok {
		return false
	}
	switch {
	case partition == "", partition == "-cn", partition == "-us-gov", partition == "-iso", partition == "-eusc":
	case len(partition) == 6 && strings.HasPrefix(partition, "-iso-") && partition[5] >= 'a' && partition[5] <= 'z':
	default:
		return false
	}
	rest, ok = strings.CutPrefix(rest, "iam::")
	if !ok || len(rest) < 12 {
		return false
	}
	for i := 0; i < 12; i++ {
		if rest[i] < '0' || rest[i] > '9' {
			return false
		}
	}
	rest, ok = strings.CutPrefix(rest[12:], ":role/")
	if !ok {
		return false
	}
	path, name := "", rest
	if i := strings.LastIndexByte(rest, '/'); i >= 0 {
		path, name = rest[:i], rest[i+1:]
	}
	for i := 0; i < len(path); i++ {
		if path[i] < 0x21 || path[i] > 0x7e {
			return false
		}
	}
	if len(name) == 0 || len(name) > 64 {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("_+=,.@-", c) >= 0) {
			return false
		}
	}
	return true
}

// ParseDuration accepts a Go duration ("1h", "90m") or whole seconds
// ("3600") between MinDuration and MaxDuration.
func ParseDuration(flag, s string, min, max time.Duration) (time.Duration, error) {
	d, err := parseDurationOrSeconds(s)
	if err != nil || d < min || d > max || d%time.Second != 0 {
		return 0, Usagef("%s %q is not a duration from %s to %s; use a Go duration such as 1h or 90m, or whole seconds such as 3600", flag, s, fmtDur(min), fmtDur(max))
	}
	return d, nil
}

func parseDurationOrSeconds(s string) (time.Duration, error) {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		if n < 0 || n > int64(1<<62/time.Second) {
			return 0, fmt.Errorf("out of range")
		}
		return time.Duration(n) * time.Second, nil
	}
	return time.ParseDuration(s)
}

func fmtDur(d time.Duration) string {
	switch {
	case d == 0:
		return "0s"
	case d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	case d%time.Minute == 0:
		return fmt.Sprintf("%dm", d/time.Minute)
	}
	return d.String()
}

var sessionNameRE = lazyre.New(`^[\w+=,.@-]{2,64}$`)

// ParseSessionName checks STS's RoleSessionName rules.
func ParseSessionName(s string) (string, error) {
	if !sessionNameRE().MatchString(s) {
		return "", Usagef("--session-name %q is not a valid role session name; use 2 to 64 characters from letters, digits and +=,.@_-", s)
	}
	return s, nil
}

// externalIDRE has no length: RE2 caps repeat counts at 1000, below STS's 1224.
var externalIDRE = lazyre.New(`^[\w+=,.@:/-]+$`)

// ParseExternalID checks STS's ExternalId rules.
func ParseExternalID(s string) (string, error) {
	if s == "" {
		return "", nil
	}
	if len(s) < 2 || len(s) > 1224 || !externalIDRE().MatchString(s) {
		return "", Usagef("--external-id %q is not a valid external id; use 2 to 1224 characters from letters, digits and +=,.@:/_-", s)
	}
	return s, nil
}

var regionRE = lazyre.New(`^[a-z]{2}(-[a-z]+)+-[0-9]{1,2}$`)

// ParseRegion checks the shape of an AWS region name.
func ParseRegion(s string) (string, error) {
	if s != "" && !regionRE().MatchString(s) {
		return "", Usagef("--region %q is not an AWS region name; expected a name such as us-east-1 or eu-west-2", s)
	}
	return s, nil
}

// DefaultSessionName identifies the user and host, e.g. c9cred-alice@ip-10-0-0-1,
// sanitised to STS's rules.
func DefaultSessionName(getenv func(string) string) string {
	who := getenv("USER")
	if who == "" {
		who = getenv("USERNAME")
	}
	if who == "" {
		if u, err := user.Current(); err == nil {
			who = u.Username
		}
	}
	host, _ := os.Hostname()
	host, _, _ = strings.Cut(host, ".")
	return SanitizeSessionName(strings.TrimRight("c9cred-"+who+"@"+host, "@-"))
}

// SanitizeSessionName maps s onto STS's [\w+=,.@-]{2,64}.
func SanitizeSessionName(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r < 128 && (r == '_' || r == '+' || r == '=' || r == ',' || r == '.' || r == '@' || r == '-' ||
			r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'):
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
	}
	out := b.String()
	if len(out) > 64 {
		out = out[:64]
	}
	for len(out) < 2 {
		out += "-"
	}
	return out
}

// KnownRegion is the region from --region or the environment (AWS_REGION,
// then AWS_DEFAULT_REGION), without loading any SDK configuration; "" when
// none is set.
func (r *Request) KnownRegion() string {
	return cmp.Or(r.Region, r.getenv("AWS_REGION"), r.getenv("AWS_DEFAULT_REGION"))
}

// CacheKeyParts lists the non-secret values that decide which credentials
// this request produces. The cache hashes them into an entry name.
func (r *Request) CacheKeyParts() []string {
	parts := []string{
		"v1",
		"source=" + r.Source.String(),
		"role=" + r.RoleARN,
		"session=" + r.SessionName,
		"duration=" + r.Duration.String(),
		"external-id=" + r.ExternalID,
		"region=" + r.Region,
		"mfa=" + r.MFA.Serial,
		"mfa-session=" + strconv.FormatBool(r.UsesMFASession()),
	}
	for _, k := range []string{"AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL_STS", "AWS_ENDPOINT_URL"} {
		parts = append(parts, k+"="+r.getenv(k))
	}
	for _, k := range r.Source.envKeys() {
		parts = append(parts, k+"="+r.getenv(k))
	}
	return parts
}
