package process

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/ec2rolecreds"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
)

// imdsRoleCredentials asks the SDK's EC2 role provider for the instance
// profile's credentials.
func imdsRoleCredentials(ctx context.Context, client *imds.Client) (aws.Credentials, error) {
	p := ec2rolecreds.New(func(o *ec2rolecreds.Options) { o.Client = client })
	c, err := p.Retrieve(ctx)
	if err != nil {
		return aws.Credentials{}, err
	}
	if c.AccessKeyID == "" || c.SecretAccessKey == "" {
		return aws.Credentials{}, fmt.Errorf("instance metadata answered without AccessKeyId or SecretAccessKey")
	}
	return c, nil
}
