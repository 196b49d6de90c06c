package apitest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/emrcontainers"
	"github.com/aws/aws-sdk-go-v2/service/emrcontainers/types"
)

// Get sends a GET for path (with its query) to the server, signed with SigV4 for
// emr-containers with the server's key unless signed is false, for the extension routes the
// SDK has no operation for. It returns the status, the X-Amzn-Errortype header and the body.
func (s *Server) Get(t testing.TB, path string, signed bool) (int, string, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if signed {
		empty := sha256.Sum256(nil)
		creds := aws.Credentials{AccessKeyID: s.AccessKeyID, SecretAccessKey: s.SecretAccessKey}
		if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(empty[:]), "emr-containers", s.Region, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header.Get("X-Amzn-Errortype"), body
}

// VirtualCluster creates a virtual cluster named after namespace on container provider
// provider and returns its id; the test fails if the server refuses it.
func (s *Server) VirtualCluster(t testing.TB, provider, namespace string) string {
	t.Helper()
	out, err := s.Client().CreateVirtualCluster(context.Background(), &emrcontainers.CreateVirtualClusterInput{
		Name: aws.String(namespace),
		ContainerProvider: &types.ContainerProvider{Type: types.ContainerProviderTypeEks, Id: aws.String(provider),
			Info: &types.ContainerInfoMemberEksInfo{Value: types.EksInfo{Namespace: aws.String(namespace)}}},
	})
	if err != nil {
		t.Fatalf("CreateVirtualCluster: %v", err)
	}
	return *out.Id
}

// Key is an access key and the principal it authenticates as.
type Key struct {
	AccessKeyID, SecretAccessKey, Arn string
}

// Admin is the server's configured (administrator) key.
func (s *Server) Admin() Key {
	return Key{s.AccessKeyID, s.SecretAccessKey, s.Principal}
}

// Do sends a request signed with key (unsigned when key is the zero Key) and returns the
// status, the X-Amzn-Errortype header and the body. body is sent as JSON unless it is a
// string or []byte, which go as they are.
func (s *Server) Do(t testing.TB, key Key, method, path string, body any) (int, string, []byte) {
	t.Helper()
	var raw []byte
	switch b := body.(type) {
	case nil:
	case []byte:
		raw = b
	case string:
		raw = []byte(b)
	default:
		var err error
		if raw, err = json.Marshal(b); err != nil {
			t.Fatal(err)
		}
	}
	req, err := http.NewRequest(method, s.URL+path, bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if raw != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if key.AccessKeyID != "" {
		sum := sha256.Sum256(raw)
		creds := aws.Credentials{AccessKeyID: key.AccessKeyID, SecretAccessKey: key.SecretAccessKey}
		if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), "emr-containers", s.Region, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header.Get("X-Amzn-Errortype"), out
}

// Open sends a GET for path signed with key, as Do does, and returns the answer with its
// body unread, for the routes that stream (job run logs); the caller closes the body.
// Cancelling ctx ends the request.
func (s *Server) Open(ctx context.Context, t testing.TB, key Key, path string) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	empty := sha256.Sum256(nil)
	creds := aws.Credentials{AccessKeyID: key.AccessKeyID, SecretAccessKey: key.SecretAccessKey}
	if err := v4.NewSigner().SignHTTP(ctx, creds, req, hex.EncodeToString(empty[:]), "emr-containers", s.Region, time.Now()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// User creates an IAM-style user with an access key and the given inline policies (name ->
// JSON document), through the server's /iam routes and its administrator key, and returns the
// key. The test fails if any step is refused.
func (s *Server) User(t testing.TB, name string, policies map[string]string) Key {
	t.Helper()
	admin := s.Admin()
	must := func(status int, code string, body []byte) []byte {
		t.Helper()
		if status != http.StatusOK {
			t.Fatalf("apitest: create user %s: HTTP %d %s %s", name, status, code, body)
		}
		return body
	}
	var user struct {
		User struct{ Arn string }
	}
	if err := json.Unmarshal(must(s.Do(t, admin, http.MethodPost, "/iam/users", map[string]string{"userName": name})), &user); err != nil {
		t.Fatal(err)
	}
	var key struct {
		AccessKey struct{ AccessKeyId, SecretAccessKey string } //nolint:revive // IAM's member names
	}
	if err := json.Unmarshal(must(s.Do(t, admin, http.MethodPost, "/iam/users/"+name+"/accesskeys", nil)), &key); err != nil {
		t.Fatal(err)
	}
	for policy, doc := range policies {
		must(s.Do(t, admin, http.MethodPut, "/iam/users/"+name+"/policies/"+policy, map[string]string{"policyDocument": doc}))
	}
	return Key{key.AccessKey.AccessKeyId, key.AccessKey.SecretAccessKey, user.User.Arn}
}

// ClientAs returns an aws-sdk-go-v2 emrcontainers client signing with key.
func (s *Server) ClientAs(key Key) *emrcontainers.Client {
	return s.ClientWith(key.AccessKeyID, key.SecretAccessKey)
}
