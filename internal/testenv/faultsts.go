package testenv

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"sync/atomic"
	"time"
)

// Fault is how the fake STS answers one action.
type Fault struct {
	Status  int           // HTTP status for an error reply (default 400)
	Code    string        // STS error code; empty: success
	Message string        // error message
	Delay   time.Duration // sleep before answering (bounded by the request)
	Raw     string        // reply this body verbatim with Status (malformed replies)
}

// FaultSTS is an httptest STS that answers AssumeRole, GetSessionToken and
// GetCallerIdentity, with per-action faults, and counts calls.
type FaultSTS struct {
	*httptest.Server
	mu     sync.Mutex
	faults map[string][]Fault // action -> faults consumed in order; last one sticks
	calls  map[string]*atomic.Int64
	// CallerARN is what GetCallerIdentity reports.
	CallerARN string
	lifetime  time.Duration // of issued credentials; guarded by mu
	dateSkew  time.Duration // guarded by mu
	seq       atomic.Int64
}

// NewFaultSTS starts the fake.
func NewFaultSTS() *FaultSTS {
	f := &FaultSTS{faults: map[string][]Fault{}, calls: map[string]*atomic.Int64{},
		CallerARN: "arn:aws:iam::123456789012:user/alice", lifetime: time.Hour}
	for _, a := range []string{"AssumeRole", "GetSessionToken", "GetCallerIdentity"} {
		f.calls[a] = new(atomic.Int64)
	}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	return f
}

// Set makes action answer with faults in order, the last one repeating.
func (f *FaultSTS) Set(action string, faults ...Fault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faults[action] = faults
}

// SetLifetime sets how long issued credentials live.
func (f *FaultSTS) SetLifetime(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lifetime = d
}

// SetDateSkew shifts the Date header of every reply (a server clock that
// differs from the client's).
func (f *FaultSTS) SetDateSkew(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.dateSkew = d
}

// Calls returns how many requests action received.
func (f *FaultSTS) Calls(action string) int64 { return f.calls[action].Load() }

func (f *FaultSTS) next(action string) Fault {
	f.mu.Lock()
	defer f.mu.Unlock()
	fs := f.faults[action]
	if len(fs) == 0 {
		return Fault{}
	}
	if len(fs) > 1 {
		f.faults[action] = fs[1:]
	}
	return fs[0]
}

func (f *FaultSTS) serve(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", 400)
		return
	}
	action := r.Form.Get("Action")
	c, ok := f.calls[action]
	if !ok {
		writeErr(w, 400, "InvalidAction", "unsupported action "+url.QueryEscape(action))
		return
	}
	c.Add(1)
	f.mu.Lock()
	skew, lifetime := f.dateSkew, f.lifetime
	f.mu.Unlock()
	if skew != 0 {
		w.Header().Set("Date", time.Now().Add(skew).UTC().Format(http.TimeFormat))
	}
	fault := f.next(action)
	if fault.Delay > 0 {
		select {
		case <-time.After(fault.Delay):
		case <-r.Context().Done():
			return
		}
	}
	status := fault.Status
	if status == 0 {
		status = 400
	}
	switch {
	case fault.Raw != "":
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(status)
		fmt.Fprint(w, fault.Raw)
		return
	case fault.Code != "":
		writeErr(w, status, fault.Code, fault.Message)
		return
	}
	w.Header().Set("Content-Type", "text/xml")
	n := f.seq.Add(1)
	exp := time.Now().Add(lifetime).UTC().Format(time.RFC3339)
	switch action {
	case "GetCallerIdentity":
		fmt.Fprintf(w, `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult><Arn>%s</Arn><UserId>AIDAFAKE</UserId><Account>123456789012</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>req-%d</RequestId></ResponseMetadata></GetCallerIdentityResponse>`, f.CallerARN, n)
	case "AssumeRole":
		role := r.Form.Get("RoleArn")
		fmt.Fprintf(w, `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult><Credentials><AccessKeyId>ASIAFAKE%08d</AccessKeyId><SecretAccessKey>fakeSecret%08dxxxxxxxxxxxxxxxxxxxxxxxx</SecretAccessKey><SessionToken>fakeToken%08d</SessionToken><Expiration>%s</Expiration></Credentials><AssumedRoleUser><Arn>%s/%s</Arn><AssumedRoleId>AROAFAKE:%s</AssumedRoleId></AssumedRoleUser></AssumeRoleResult><ResponseMetadata><RequestId>req-%d</RequestId></ResponseMetadata></AssumeRoleResponse>`,
			n, n, n, exp, assumedARN(role), r.Form.Get("RoleSessionName"), r.Form.Get("RoleSessionName"), n)
	case "GetSessionToken":
		fmt.Fprintf(w, `<GetSessionTokenResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetSessionTokenResult><Credentials><AccessKeyId>ASIAMFA%08d</AccessKeyId><SecretAccessKey>mfaSecret%08dxxxxxxxxxxxxxxxxxxxxxxxxx</SecretAccessKey><SessionToken>mfaToken%08d</SessionToken><Expiration>%s</Expiration></Credentials></GetSessionTokenResult><ResponseMetadata><RequestId>req-%d</RequestId></ResponseMetadata></GetSessionTokenResponse>`, n, n, n, exp, n)
	}
}

// assumedARN turns arn:aws:iam::ACCT:role/NAME into arn:aws:sts::ACCT:assumed-role/NAME.
func assumedARN(role string) string {
	var acct, name string
	if _, err := fmt.Sscanf(role, "arn:aws:iam::%12s", &acct); err != nil {
		return "arn:aws:sts::123456789012:assumed-role/unknown"
	}
	for i := len(role) - 1; i >= 0; i-- {
		if role[i] == '/' {
			name = role[i+1:]
			break
		}
	}
	return "arn:aws:sts::" + acct + ":assumed-role/" + name
}

func writeErr(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(status)
	typ := "Sender"
	if status >= 500 {
		typ = "Receiver"
	}
	fmt.Fprintf(w, `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>%s</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>req-err</RequestId></ErrorResponse>`, typ, code, msg)
}
