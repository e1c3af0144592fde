package process

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
)

// Network bounds for STS. Every attempt has a deadline and the retryer
// gives up after a few attempts, so an unreachable STS fails in seconds.
const (
	stsAttempts    = 3
	stsMaxBackoff  = 1 * time.Second
	stsAttemptTime = 5 * time.Second
	stsDialTime    = 2 * time.Second
)

// fallbackRegion is used for the STS call when no region is configured
// anywhere. It is not printed as the user's region.
const fallbackRegion = "us-east-1"

// awsConfig loads the SDK configuration for STS calls made with creds:
// region and endpoint come from the SDK's usual resolution (AWS_REGION,
// AWS_DEFAULT_REGION, the profile, AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL),
// with --region on top.
func awsConfig(ctx context.Context, r *Request, creds aws.Credentials) (aws.Config, string, error) {
	opts := []func(*config.LoadOptions) error{
		config.WithCredentialsProvider(credentials.StaticCredentialsProvider{Value: creds}),
		config.WithRetryer(func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.MaxAttempts = stsAttempts
				o.MaxBackoff = stsMaxBackoff
			})
		}),
		config.WithHTTPClient(awshttp.NewBuildableClient().
			WithTimeout(stsAttemptTime).
			WithDialerOptions(func(d *net.Dialer) { d.Timeout = stsDialTime })),
	}
	cfgFile, credFile := SharedFiles(r.getenv)
	opts = append(opts, config.WithSharedConfigFiles([]string{cfgFile}), config.WithSharedCredentialsFiles([]string{credFile}))
	if r.Region != "" {
		opts = append(opts, config.WithRegion(r.Region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	var notExist config.SharedConfigProfileNotExistError
	if errors.As(err, &notExist) && r.Source.Kind != "profile" {
		// AWS_PROFILE names a profile that is not there. The credentials are
		// in hand; the profile would only have lent a region or endpoint.
		cfg, err = loadConfigWithout(ctx, []string{"AWS_PROFILE", "AWS_DEFAULT_PROFILE"}, opts...)
	}
	if err != nil {
		return aws.Config{}, "", Usagef("load AWS configuration: %v", err)
	}
	region := cfg.Region
	if cfg.Region == "" {
		cfg.Region = fallbackRegion
	}
	return cfg, region, nil
}

// assumeRole exchanges base credentials for a role session.
func assumeRole(ctx context.Context, r *Request, cfg aws.Config, base baseCreds, mfaCode string) (aws.Credentials, error) {
	client := sts.NewFromConfig(cfg)
	p := stscreds.NewAssumeRoleProvider(client, r.RoleARN, func(o *stscreds.AssumeRoleOptions) {
		o.RoleSessionName = r.SessionName
		o.Duration = r.Duration
		if r.ExternalID != "" {
			o.ExternalID = aws.String(r.ExternalID)
		}
		if mfaCode != "" {
			o.SerialNumber = aws.String(r.MFA.Serial)
			o.TokenProvider = func() (string, error) { return mfaCode, nil }
		}
	})
	c, err := p.Retrieve(ctx)
	if err != nil {
		e := stsFailure(err, "AssumeRole "+r.RoleARN, base.from)
		if base.cloud9Managed {
			cloud9Hint(e, apiCode(err), true)
		}
		if code := apiCode(err); code == "AccessDenied" && e.Hint == "" {
			e.Hint = "the role's trust policy must allow sts:AssumeRole for the caller" + callerSuffix(ctx, client) +
				", and the caller's own policy must allow sts:AssumeRole on " + r.RoleARN
		}
		return aws.Credentials{}, e
	}
	return c, nil
}

// callerSuffix names the caller for the AccessDenied hint, when STS says.
func callerSuffix(ctx context.Context, client *sts.Client) string {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	out, err := client.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}, func(o *sts.Options) {
		o.RetryMaxAttempts = 1
	})
	if err != nil || out.Arn == nil {
		return ""
	}
	return " (" + *out.Arn + ")"
}

func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// stsFailure turns an SDK error into one line with the service's code and
// message, plus a hint for the codes users meet.
func stsFailure(err error, op, from string) *Error {
	var de *smithy.DeserializationError
	if errors.As(err, &de) {
		e := Failf("%s: STS sent an unexpected reply (not the XML STS documents)", op)
		e.Err = err
		e.Hint = "something between c9cred and STS answered instead of STS (a proxy or captive portal?); check HTTPS_PROXY and AWS_ENDPOINT_URL_STS"
		return e
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		e := Failf("%s: %s: %s", op, ae.ErrorCode(), oneLine(ae.ErrorMessage()))
		e.Err = err
		switch ae.ErrorCode() {
		case "ExpiredToken", "ExpiredTokenException", "RequestExpired":
			e.Hint = fmt.Sprintf("the credentials from source %s have expired; refresh them at their origin, or use another --source", from)
		case "InvalidClientTokenId", "UnrecognizedClientException", "SignatureDoesNotMatch", "IncompleteSignature":
			e.Hint = fmt.Sprintf("the credentials from source %s are not valid (wrong, deleted or deactivated keys, or a session token that does not match); check them, or use another --source", from)
		case "Throttling", "ThrottlingException", "RequestLimitExceeded", "InternalFailure", "ServiceUnavailable", "InternalError":
			e.Hint = fmt.Sprintf("STS kept failing after %d attempts with backoff; retry in a minute", stsAttempts)
		case "RegionDisabledException":
			e.Hint = "STS is not activated in this region; pass --region with an activated region or activate it in IAM account settings"
		case "ValidationError":
			if strings.Contains(strings.ToLower(ae.ErrorMessage()), "duration") {
				e.Hint = "the role's maximum session duration is shorter than --duration (role chaining allows at most 1h); pass a shorter --duration"
			}
		}
		return e
	}
	e := Failf("%s: %s", op, oneLine(err.Error()))
	e.Err = err
	var ue *url.Error
	if errors.As(err, &ue) {
		e.Msg = fmt.Sprintf("%s: cannot reach %s: %s", op, ue.URL, oneLine(ue.Err.Error()))
	}
	if errors.Is(err, context.DeadlineExceeded) {
		e.Msg = fmt.Sprintf("%s: no answer before the deadline", op)
		e.Hint = "STS did not answer in time; check the network, AWS_ENDPOINT_URL_STS, or pass a longer --timeout"
	} else if strings.Contains(err.Error(), "dial tcp") || strings.Contains(err.Error(), "no such host") {
		e.Hint = "STS could not be reached; check the network, a proxy (HTTPS_PROXY), and AWS_ENDPOINT_URL_STS / AWS_ENDPOINT_URL"
	}
	return e
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 400 {
		s = s[:400] + "..."
	}
	return s
}

// ParseExpiration reads an expiry time as RFC 3339, with or without
// fractional seconds, an offset or a trailing Z (no zone means UTC).
func ParseExpiration(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999Z07:00", "2006-01-02 15:04:05.999999999"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("expiration %q is not an RFC 3339 time", s)
}
