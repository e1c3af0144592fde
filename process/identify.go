package process

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// Identity is what one source resolves to.
type Identity struct {
	// From names the source ("env", "container", "profile:dev").
	From string
	// ARN is the caller STS reports; empty when the call failed.
	ARN string
	// Cloud9Managed: the source is AWS Cloud9's managed temporary credentials.
	Cloud9Managed bool
	// ClockSkew is STS's clock minus ours, from the reply's Date header
	// (zero when unknown).
	ClockSkew time.Duration
}

// ErrSourceNotConfigured is returned by Identify for a source that has
// nothing to offer here.
var ErrSourceNotConfigured = errNotConfigured

// Identify reads the source's credentials and asks STS who they belong to
// (GetCallerIdentity, one attempt). It never returns a secret.
func Identify(ctx context.Context, r *Request) (Identity, error) {
	base, err := r.retrieveBase(ctx)
	if err != nil {
		var nc notConfigured
		if errors.As(err, &nc) {
			return Identity{}, nc
		}
		return Identity{}, err
	}
	id := Identity{From: base.from, Cloud9Managed: base.cloud9Managed}
	ctx, cancel := r.networkContext(ctx)
	defer cancel()
	cfg, _, err := awsConfig(ctx, r, base.Credentials)
	if err != nil {
		return id, err
	}
	sent := time.Now()
	out, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}, func(o *sts.Options) {
		o.RetryMaxAttempts = 1
	})
	if err != nil {
		e := stsFailure(err, "GetCallerIdentity", base.from)
		if base.cloud9Managed {
			cloud9Hint(e, apiCode(err), false)
		}
		var re *smithyhttp.ResponseError
		if errors.As(err, &re) {
			id.ClockSkew = skew(re.Response.Header.Get("Date"), sent)
		}
		return id, e
	}
	id.ARN = aws.ToString(out.Arn)
	if raw, ok := awsmiddleware.GetRawResponse(out.ResultMetadata).(*smithyhttp.Response); ok {
		id.ClockSkew = skew(raw.Header.Get("Date"), sent)
	}
	return id, nil
}

// skew compares an HTTP Date header with the local time the request was
// sent; Date has whole seconds, so anything under 2 s is noise.
func skew(date string, sent time.Time) time.Duration {
	t, err := http.ParseTime(date)
	if err != nil {
		return 0
	}
	d := t.Sub(sent).Round(time.Second)
	if d > -2*time.Second && d < 2*time.Second {
		return 0
	}
	return d
}
