package process

import (
	"context"
	"errors"

	"github.com/aws/aws-sdk-go-v2/aws"

	"c9cred/keychain"
)

// storedSource reads long-term keys saved with `c9cred store NAME`: from the
// OS keychain, or from the 0600 file store when they were saved with
// --insecure-file.
type storedSource struct {
	name     string
	implicit bool
}

func (s storedSource) describe() string { return "stored:" + s.name }

func (s storedSource) retrieve(ctx context.Context, r *Request) (baseCreds, error) {
	var unavailable error
	for _, kr := range keychain.StoredKeyrings(r.getenv) {
		keys, err := kr.Load(ctx, s.name)
		switch {
		case err == nil:
			return baseCreds{Credentials: aws.Credentials{
				AccessKeyID: keys.AccessKeyID, SecretAccessKey: keys.SecretAccessKey, Source: s.describe(),
			}, from: s.describe()}, nil
		case errors.Is(err, keychain.ErrNotFound):
		case errors.Is(err, keychain.ErrUnavailable):
			unavailable = err
		default:
			return baseCreds{}, Failf("source %s: %v", s.describe(), err)
		}
	}
	if s.implicit {
		return baseCreds{}, notConfigured{"no keys stored under that name"}
	}
	e := Usagef("source %s: no keys stored under the name %q", s.describe(), s.name).
		WithHint("save them with `c9cred store %s` (it reads them from a prompt or stdin, never from flags)", s.name)
	if unavailable != nil {
		e.Msg += " (the keychain could not be asked: " + unavailable.Error() + ")"
	}
	return baseCreds{}, e
}
