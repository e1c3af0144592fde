// Command benchfloor is the floor that make bench measures c9cred against:
// the least a credential_process helper can do. It prints one line of
// credential_process JSON of the same shape as c9cred's (Version 1, keys,
// a 600-character session token, an RFC 3339 expiry an hour ahead, the
// account) and exits, so a ratio against it isolates what c9cred adds on
// top of starting a Go process and writing its answer.
package main

import (
	"os"
	"time"
)

// sessionToken has the length of a real STS session token (AWS documents
// no fixed size; 400-800 characters is what AssumeRole hands out today).
const sessionToken = "IQoJb3JpZ2luX2VjE7b+IRl8Dre0pqxTCVufYUFZ5GjhDIMQ0lWhy1yyIa8uPrhZmAtIcwftHDHnZOQE+ZWepBCpECCv+Zdcjy2IvSlgVG4pMiRE+znlSFrsssTi752vNZQnCqADdOW1x44qmLZ2RNBwNw9v+sX8h2XYxzb69R5RXhA8ZWIZUPUsGGB/maseWB7WRSPaORiyXPCHX50jEVoz9sjIYjUFYK1NxBmda8unGKlj2hiIO354hmSByRjQz++ge+hsOv3zqdr79fBIrGNHQIylgEVwrIQ+18PMNJqorpATt5UzF9EY2snbnQmJxNzgaPSYqvjUM72a9KXgCg2UH4IELNNUdgPOhcB6MQ5kTX7TOA5owD6LgftWk+7HM3GoojZrs7unhxV+ozR6mL1eiDWBsukYrrOTFbKsmCdfwdKUy7QGRaSRyBaEVLkyoUzHOysdFtreKZ6TFXVtXBJwKjvXaL4uRSef1dlupS7EajrANXzHoRK5rRNhuZ9gFGbX+vh++zO3fYTJVK7WFfvBfBqtyWA4cZq2RQqmYyhInz33o7RWgWElmw03CEMtHktX2XDD/hYG/sQdlHu2fNGk"

func main() {
	exp := time.Now().Add(time.Hour).UTC().Truncate(time.Second).Format(time.RFC3339)
	out := make([]byte, 0, 1024)
	out = append(out, `{"Version":1,"AccessKeyId":"ASIAIOSFODNN7BENCHXX","SecretAccessKey":"wJalrXUtnFEMI/K7MDENG/bPxRfiCYBENCHKEYXX",`...)
	out = append(out, `"SessionToken":"`...)
	out = append(out, sessionToken...)
	out = append(out, `","Expiration":"`...)
	out = append(out, exp...)
	out = append(out, `","AccountId":"123456789012"}`...)
	out = append(out, '\n')
	if _, err := os.Stdout.Write(out); err != nil {
		os.Exit(1)
	}
}
