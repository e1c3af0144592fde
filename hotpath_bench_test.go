package main

import (
	"context"
	"flag"
	"io"
	"os"
	"testing"
	"time"

	"c9cred/cache"
	"c9cred/process"
)

// BenchmarkCacheHit runs the whole credential_process cache-hit path in
// process (flag parsing, data key, entry, JSON), for `go test -cpuprofile`.
// Process start-up is measured by make bench; this isolates c9cred's work.
func BenchmarkCacheHit(b *testing.B) {
	home := b.TempDir()
	b.Setenv("HOME", home)
	b.Setenv("XDG_CACHE_HOME", home+"/.cache")
	b.Setenv("DBUS_SESSION_BUS_ADDRESS", "")
	b.Setenv("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
	b.Setenv("AWS_REGION", "us-east-1")
	args := []string{"--role", "arn:aws:iam::123456789012:role/Bench", "--source", "env", "--cache", "file"}
	e := &env{stdout: io.Discard, stderr: io.Discard, getenv: os.Getenv}

	// Warm the cache with a sealed entry for exactly this request.
	fs := flag.NewFlagSet("warm", flag.ContinueOnError)
	var cf credFlags
	cf.register(fs)
	if err := fs.Parse(args); err != nil {
		b.Fatal(err)
	}
	req, co, err := cf.build(e.getenv)
	if err != nil {
		b.Fatal(err)
	}
	c, err := openCache(context.Background(), co.mode, e)
	if err != nil {
		b.Fatal(err)
	}
	creds := process.Credentials{AccessKeyID: "ASIABENCH", SecretAccessKey: "secret", SessionToken: string(make([]byte, 600)),
		Expiration: time.Now().Add(time.Hour).UTC().Truncate(time.Second), AccountID: "123456789012"}
	payload, _ := creds.MarshalPayload()
	if err := c.Put(cache.Name(req.CacheKeyParts()...), cache.Entry{Expires: creds.Expiration, Payload: payload}); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if code := run(context.Background(), args, e); code != 0 {
			b.Fatalf("exit %d", code)
		}
	}
}
