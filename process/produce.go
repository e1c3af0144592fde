package process

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"c9cred/internal/redact"
)

// DefaultTimeout bounds Produce when Request.Timeout is zero.
const DefaultTimeout = 20 * time.Second

// Produce reads the source's credentials and, when a role is requested,
// assumes it. It makes network calls and never looks at any cache.
func Produce(ctx context.Context, r *Request) (Credentials, error) {
	timeout := r.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	src := r.Source.source()
	base, err := src.retrieve(ctx, r)
	if err != nil {
		return Credentials{}, AsError(err)
	}
	redact.Add(base.SecretAccessKey, base.SessionToken)

	if r.RoleARN == "" {
		region := r.Region
		if region == "" {
			region = firstNonEmpty(r.getenv("AWS_REGION"), r.getenv("AWS_DEFAULT_REGION"))
		}
		out := fromAWS(base.Credentials, region, base.from)
		out.Cloud9Managed = base.cloud9Managed
		return out, nil
	}

	cfg, region, err := awsConfig(ctx, r, base.Credentials)
	if err != nil {
		return Credentials{}, err
	}
	c, err := assumeRole(ctx, r, cfg, base)
	if err != nil {
		return Credentials{}, err
	}
	redact.Add(c.SecretAccessKey, c.SessionToken)
	return fromAWS(c, region, r.RoleARN+" via "+base.from), nil
}

func fromAWS(c aws.Credentials, region, source string) Credentials {
	out := Credentials{
		AccessKeyID:     c.AccessKeyID,
		SecretAccessKey: c.SecretAccessKey,
		SessionToken:    c.SessionToken,
		AccountID:       c.AccountID,
		Region:          region,
		Source:          source,
	}
	if c.CanExpire {
		out.Expiration = c.Expires.UTC().Truncate(time.Second)
	}
	return out
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}
