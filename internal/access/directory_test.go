package access_test

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sparkplane/sparkplane/internal/access"
	"github.com/sparkplane/sparkplane/internal/iam"
	"github.com/sparkplane/sparkplane/internal/store"
)

// TestLookupFailsClosed checks that a user whose stored policy no longer parses (a newer
// server wrote it, or the parser grew stricter) may do nothing, rather than lose that
// policy's Deny statements; and that a deleted key stops working at once on this server.
func TestLookupFailsClosed(t *testing.T) {
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	sealer, err := access.NewSealer(make([]byte, access.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	d := access.NewDirectory(access.Options{Store: st, Sealer: sealer, AccountID: "000000000000"})
	ctx := t.Context()
	if _, err := d.CreateUser(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	key, err := d.CreateAccessKey(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if err := d.PutUserPolicy(ctx, "alice", "all", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`); err != nil {
		t.Fatal(err)
	}
	// A policy that this server's parser refuses, stored behind its back.
	if err := st.PutUserPolicy(ctx, access.UserPolicy{UserName: "alice", PolicyName: "future", PolicyDocument: `{"Version":"2030-01-01"}`, UpdateDate: time.Now()}, 50); err != nil {
		t.Fatal(err)
	}
	fresh := access.NewDirectory(access.Options{Store: st, Sealer: sealer, AccountID: "000000000000"})
	id, ok, err := fresh.Lookup(ctx, key.AccessKeyID)
	if err != nil || !ok || id.Secret != key.SecretAccessKey {
		t.Fatalf("Lookup = %v, %v, %v", ok, err, id.Principal)
	}
	if d := iam.Evaluate(id.Policies, iam.Request{Principal: id.Principal, Action: "emr-containers:ListVirtualClusters", Resource: "*"}); d.Allowed {
		t.Errorf("a user with an unparsable stored policy was allowed: %+v", d)
	}
	if err := d.DeleteAccessKey(ctx, "alice", key.AccessKeyID); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := d.Lookup(ctx, key.AccessKeyID); ok {
		t.Error("a deleted key still authenticates on the server that deleted it")
	}
	// A user may not take the ARN of a configuration key's principal.
	admin := access.NewDirectory(access.Options{Store: st, Sealer: sealer, AccountID: "000000000000",
		Static: []access.StaticKey{{AccessKeyID: "AKIAADMIN00000000000", SecretAccessKey: "x", Principal: "arn:aws:iam::000000000000:user/ops"}}})
	if _, err := admin.CreateUser(ctx, "ops"); err == nil {
		t.Error("a user took the principal of a configuration key")
	}
}

// TestSealer checks that a sealed secret opens only under its own key and its own access
// key id, and that a wrong key is named as such.
func TestSealer(t *testing.T) {
	k1, k2 := make([]byte, access.KeySize), make([]byte, access.KeySize)
	k2[0] = 1
	s1, _ := access.NewSealer(k1)
	s2, _ := access.NewSealer(k2)
	sealed, err := s1.Seal("AKIAONE0000000000000", "secret-value-0123456789")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := s1.Open("AKIAONE0000000000000", sealed); err != nil || got != "secret-value-0123456789" {
		t.Fatalf("Open = %q, %v", got, err)
	}
	if _, err := s2.Open("AKIAONE0000000000000", sealed); err == nil || !strings.Contains(err.Error(), "another secrets key") {
		t.Errorf("Open with another key = %v, want it to say the key differs", err)
	}
	if _, err := s1.Open("AKIATWO0000000000000", sealed); err == nil {
		t.Error("a secret moved to another key id opened")
	}
	if bytes.Contains(sealed, []byte("secret-value")) {
		t.Error("the sealed value holds the secret in clear")
	}
	again, _ := s1.Seal("AKIAONE0000000000000", "secret-value-0123456789")
	if bytes.Equal(again, sealed) {
		t.Error("two seals of one secret are equal: the nonce is not fresh")
	}
}
