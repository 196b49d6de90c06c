package api

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/sparkplane/sparkplane/internal/access"
)

// SigningName is the SigV4 service name of the emr-containers API.
const SigningName = "emr-containers"

// MaxClockSkew is how far a request's X-Amz-Date may be from the server clock.
const MaxClockSkew = 5 * time.Minute

// Credentials finds the identity behind an access key id (access.Directory).
type Credentials interface {
	Lookup(ctx context.Context, accessKeyID string) (access.Identity, bool, error)
}

// Authenticator verifies SigV4 signatures against the keys Credentials knows.
type Authenticator struct {
	creds  Credentials
	region string
	now    func() time.Time
	signer *v4.Signer
}

// NewAuthenticator returns an Authenticator for region accepting the keys creds knows. now may
// be nil.
func NewAuthenticator(region string, creds Credentials, now func() time.Time) *Authenticator {
	if now == nil {
		now = time.Now
	}
	return &Authenticator{creds: creds, region: region, now: now, signer: v4.NewSigner(func(o *v4.SignerOptions) {
		// The signature is compared, never logged.
		o.DisableURIPathEscaping = false
	})}
}

// authError is a rejected authentication: an AWS error code and a message safe to return.
type authError struct {
	code    string
	message string
}

func (e *authError) Error() string { return e.code + ": " + e.message }

// sigHeader is the parsed Authorization header.
type sigHeader struct {
	accessKey, date, region, service string
	signedHeaders                    []string
	signedHeadersRaw                 string
	signature                        string
}

func parseAuthorization(h string) (sigHeader, bool) {
	const algo = "AWS4-HMAC-SHA256 "
	if !strings.HasPrefix(h, algo) {
		return sigHeader{}, false
	}
	var s sigHeader
	for _, part := range strings.Split(strings.TrimPrefix(h, algo), ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return sigHeader{}, false
		}
		switch k {
		case "Credential":
			f := strings.Split(v, "/")
			if len(f) != 5 || f[4] != "aws4_request" {
				return sigHeader{}, false
			}
			s.accessKey, s.date, s.region, s.service = f[0], f[1], f[2], f[3]
		case "SignedHeaders":
			s.signedHeadersRaw = v
			s.signedHeaders = strings.Split(v, ";")
		case "Signature":
			s.signature = v
		}
	}
	if s.accessKey == "" || s.signature == "" || len(s.signedHeaders) == 0 {
		return sigHeader{}, false
	}
	return s, true
}

// Verify checks the request's signature over body and returns the identity it proves.
// A lookup that fails (the store is down) is an error of its own, not an authentication
// failure: the caller answers 500 rather than telling a valid caller their key is unknown.
func (a *Authenticator) Verify(ctx context.Context, r *http.Request, body []byte) (access.Identity, error) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return access.Identity{}, &authError{"MissingAuthenticationTokenException", "Missing Authentication Token: requests must be signed with AWS Signature Version 4"}
	}
	s, ok := parseAuthorization(h)
	if !ok {
		return access.Identity{}, &authError{"InvalidSignatureException", "Authorization header is not a well-formed AWS4-HMAC-SHA256 signature (Credential, SignedHeaders, Signature)"}
	}
	key, ok, err := a.creds.Lookup(ctx, s.accessKey)
	if err != nil {
		return access.Identity{}, fmt.Errorf("look up access key: %w", err)
	}
	if !ok {
		return access.Identity{}, &authError{"UnrecognizedClientException", "The security token included in the request is invalid: unknown access key"}
	}
	if s.service != SigningName {
		return access.Identity{}, &authError{"InvalidSignatureException", fmt.Sprintf("Credential should be scoped to correct service: '%s'", SigningName)}
	}
	if s.region != a.region {
		return access.Identity{}, &authError{"InvalidSignatureException", fmt.Sprintf("Credential should be scoped to a valid region: '%s'", a.region)}
	}
	amzDate := r.Header.Get("X-Amz-Date")
	t, err := time.Parse("20060102T150405Z", amzDate)
	if err != nil {
		return access.Identity{}, &authError{"InvalidSignatureException", "X-Amz-Date header is missing or not in the form 20060102T150405Z"}
	}
	if s.date != t.Format("20060102") {
		return access.Identity{}, &authError{"InvalidSignatureException", "Credential date does not match X-Amz-Date"}
	}
	if skew := a.now().Sub(t); skew > MaxClockSkew || skew < -MaxClockSkew {
		return access.Identity{}, &authError{"InvalidSignatureException", fmt.Sprintf("Signature expired: %s is not within %s of the server time", amzDate, MaxClockSkew)}
	}
	signedHost := false
	for _, name := range s.signedHeaders {
		if name == "host" {
			signedHost = true
		}
	}
	if !signedHost {
		return access.Identity{}, &authError{"InvalidSignatureException", "SignedHeaders must include host"}
	}

	// Rebuild the request from exactly what arrived and the headers the client signed, and let
	// the SDK's signer compute the signature it should carry.
	u := *r.URL
	u.Scheme, u.Host = "http", r.Host
	req := &http.Request{Method: r.Method, URL: &u, Host: r.Host, Header: http.Header{}}
	for _, name := range s.signedHeaders {
		switch name {
		case "host":
		case "content-length":
			req.ContentLength = int64(len(body))
		default:
			if v, ok := r.Header[http.CanonicalHeaderKey(name)]; ok {
				req.Header[http.CanonicalHeaderKey(name)] = v
			}
		}
	}
	sum := sha256.Sum256(body)
	payloadHash := hex.EncodeToString(sum[:])
	creds := aws.Credentials{AccessKeyID: key.AccessKeyID, SecretAccessKey: key.Secret, SessionToken: r.Header.Get("X-Amz-Security-Token")}
	if creds.SessionToken != "" {
		req.Header.Del("X-Amz-Security-Token") // the signer adds it back from creds
	}
	if err := a.signer.SignHTTP(ctx, creds, req, payloadHash, SigningName, a.region, t); err != nil {
		return access.Identity{}, &authError{"InvalidSignatureException", "signature could not be computed for this request"}
	}
	want, ok := parseAuthorization(req.Header.Get("Authorization"))
	mismatch := &authError{"InvalidSignatureException", "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method."}
	if !ok || want.signedHeadersRaw != s.signedHeadersRaw {
		return access.Identity{}, mismatch
	}
	if subtle.ConstantTimeCompare([]byte(want.signature), []byte(s.signature)) != 1 {
		return access.Identity{}, mismatch
	}
	return key, nil
}
