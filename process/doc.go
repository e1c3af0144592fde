// Package process produces AWS credentials for c9cred and speaks the
// credential_process protocol.
//
// A Request names a source (env, profile:NAME, container, imds, stored:NAME
// or auto) and optionally a role. Produce reads the source's credentials
// through the AWS SDK's own providers and, when a role is given, exchanges
// them for an AssumeRole session through the SDK's STS client, retryer and
// signer. Credentials render as the version-1 JSON that botocore, the Go,
// JavaScript and Java SDKs parse, or as the --print formats for people and
// shells.
//
// Caveats:
//   - Nothing here caches: package cache decides when Produce runs.
//   - Errors are *Error values that carry the exit code and a hint; their
//     text never holds a secret, and every secret read is registered with
//     internal/redact as a second line of defence.
//   - A source that would run c9cred again (a profile whose
//     credential_process is c9cred) is refused as a configuration error
//     instead of forking without end.
package process
