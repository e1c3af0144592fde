// An AWS SDK for JavaScript v3 client for c9cred's compatibility tests:
// prints the caller ARN from STS GetCallerIdentity.
//
//   node caller.mjs ENDPOINT [PROFILE]
//
// With PROFILE the credentials come from that profile of the shared config
// (fromIni, which runs its credential_process) and never from the
// environment; without it, from the SDK's default chain (environment,
// container endpoint, ...). The region comes from AWS_REGION.
//
// The test runs a copy of this file beside a node_modules that holds
// @aws-sdk/client-sts and @aws-sdk/credential-providers (.ci/deps.sh puts
// them in .testdeps/js).
import { STSClient, GetCallerIdentityCommand } from "@aws-sdk/client-sts";
import { fromIni } from "@aws-sdk/credential-providers";

const [endpoint, profile] = process.argv.slice(2);
if (!endpoint) {
  console.error("usage: node caller.mjs ENDPOINT [PROFILE]");
  process.exit(2);
}
const client = new STSClient({
  endpoint,
  ...(profile ? { credentials: fromIni({ profile }) } : {}),
});
try {
  const out = await client.send(new GetCallerIdentityCommand({}));
  console.log(out.Arn);
} catch (err) {
  console.error(`GetCallerIdentity: ${err.name}: ${err.message}`);
  process.exit(1);
}
