package process

import (
	"encoding/json"
	"time"
)

// Credentials is what c9cred hands out.
type Credentials struct {
	AccessKeyID     string    `json:"k"`
	SecretAccessKey string    `json:"s"`
	SessionToken    string    `json:"t,omitempty"`
	Expiration      time.Time `json:"e,omitempty"` // zero: does not expire
	AccountID       string    `json:"a,omitempty"`
	// Region is the region the request resolved to, printed by --print
	// formats; empty when none was configured.
	Region string `json:"r,omitempty"`
	// Source says where the credentials came from ("env", "profile:dev",
	// "assumed arn:... from env").
	Source string `json:"src,omitempty"`
	// Role is the assumed role, if any (for `c9cred clear --role`).
	Role string `json:"role,omitempty"`
	// Cloud9Managed marks AWS Cloud9's managed temporary credentials passed
	// through as they are.
	Cloud9Managed bool `json:"c9,omitempty"`
}

// CanExpire reports whether the credentials have an expiry.
func (c *Credentials) CanExpire() bool { return !c.Expiration.IsZero() }

// MarshalPayload encodes c for the cache.
func (c *Credentials) MarshalPayload() ([]byte, error) { return json.Marshal(c) }

// UnmarshalPayload decodes a cache payload.
func UnmarshalPayload(b []byte) (Credentials, error) {
	var c Credentials
	err := json.Unmarshal(b, &c)
	if err == nil && (c.AccessKeyID == "" || c.SecretAccessKey == "") {
		err = errIncomplete
	}
	return c, err
}

var errIncomplete = Failf("cached entry has no access key")
