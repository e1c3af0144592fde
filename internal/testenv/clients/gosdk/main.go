// Command gosdk is an aws-sdk-go-v2 client for c9cred's compatibility
// tests: it loads the shared config the way an application does, calls STS
// GetCallerIdentity and prints one line per call, "ARN ACCESS_KEY_ID", the
// access key id being the one the SDK's credentials cache handed out for
// that call.
//
// With -profile it uses that profile of the shared config (and so its
// credential_process), which the SDK prefers to credentials in the
// environment; without it, the SDK's default chain (environment, container
// endpoint, ...). -calls and -interval keep one client alive across many
// calls; -expiry-window makes the credentials cache refresh that long
// before expiry instead of at expiry, as botocore does.
//
// A failed call is reported on stderr and the loop goes on; the exit code
// is 1 when any call failed.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

func main() {
	endpoint := flag.String("endpoint", "", "STS endpoint URL (required)")
	profile := flag.String("profile", "", "shared config profile; default: the SDK's default chain")
	calls := flag.Int("calls", 1, "number of GetCallerIdentity calls")
	interval := flag.Duration("interval", time.Second, "pause between calls")
	window := flag.Duration("expiry-window", 0, "refresh credentials this long before they expire")
	flag.Parse()
	if *endpoint == "" || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: gosdk -endpoint URL [-profile NAME] [-calls N] [-interval DUR] [-expiry-window DUR]")
		os.Exit(2)
	}
	ctx := context.Background()
	var opts []func(*config.LoadOptions) error
	if *profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(*profile))
	}
	if *window > 0 {
		opts = append(opts, config.WithCredentialsCacheOptions(func(o *aws.CredentialsCacheOptions) {
			o.ExpiryWindow = *window
		}))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		fmt.Fprintln(os.Stderr, "load config:", err)
		os.Exit(1)
	}
	client := sts.NewFromConfig(cfg, func(o *sts.Options) { o.BaseEndpoint = aws.String(*endpoint) })
	failed := 0
	for i := 0; i < *calls; i++ {
		if i > 0 {
			time.Sleep(*interval)
		}
		// The cache returns what the next signed request will use.
		creds, err := cfg.Credentials.Retrieve(ctx)
		if err != nil {
			failed++
			fmt.Fprintf(os.Stderr, "call %d: credentials: %v\n", i+1, err)
			continue
		}
		out, err := client.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		if err != nil {
			failed++
			fmt.Fprintf(os.Stderr, "call %d: GetCallerIdentity: %v\n", i+1, err)
			continue
		}
		fmt.Println(aws.ToString(out.Arn), creds.AccessKeyID)
	}
	if failed > 0 {
		os.Exit(1)
	}
}
