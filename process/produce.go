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
	base, err := r.retrieveBase(ctx)
	if err != nil {
		return Credentials{}, err
	}
	// Without a cached MFA session, the code goes to AssumeRole itself;
	// ask for it before the network deadline starts.
	var code string
	if r.MFA.Serial != "" && r.Base == nil && r.RoleARN != "" {
		if code, err = r.mfaCode(ctx); err != nil {
			return Credentials{}, AsError(err)
		}
	}
	ctx, cancel := r.networkContext(ctx)
	defer cancel()

	if r.RoleARN == "" {
		out := fromAWS(base.Credentials, r.KnownRegion(), base.from)
		out.Cloud9Managed = base.cloud9Managed
		return out, nil
	}

	cfg, region, err := awsConfig(ctx, r, base.Credentials)
	if err != nil {
		return Credentials{}, err
	}
	c, err := assumeRole(ctx, r, cfg, base, code)
	if err != nil {
		return Credentials{}, err
	}
	redact.Add(c.SecretAccessKey, c.SessionToken)
	out := fromAWS(c, region, r.RoleARN+" via "+base.from)
	out.Role = r.RoleARN
	return out, nil
}

// retrieveBase returns the credentials to start from: r.Base when the
// caller supplies an MFA session, else the source's.
func (r *Request) retrieveBase(ctx context.Context) (baseCreds, error) {
	if r.Base != nil {
		b := r.Base
		return baseCreds{Credentials: aws.Credentials{AccessKeyID: b.AccessKeyID, SecretAccessKey: b.SecretAccessKey,
			SessionToken: b.SessionToken, CanExpire: b.CanExpire(), Expires: b.Expiration}, from: b.Source}, nil
	}
	ctx, cancel := r.networkContext(ctx)
	defer cancel()
	base, err := r.Source.source().retrieve(ctx, r)
	if err != nil {
		return baseCreds{}, AsError(err)
	}
	redact.Add(base.SecretAccessKey, base.SessionToken)
	return base, nil
}

// networkContext bounds network work by r.Timeout.
func (r *Request) networkContext(ctx context.Context) (context.Context, context.CancelFunc) {
	timeout := r.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	return context.WithTimeout(ctx, timeout)
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
