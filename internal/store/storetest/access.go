package storetest

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/sparkplane/sparkplane/internal/access"
)

// RunAccess runs the conformance suite of access.Store: users, access keys and inline
// policies, the IAM errors a caller maps to codes, and the per-user limits under concurrent
// calls. newStore must return a new empty store for each call.
func RunAccess(t *testing.T, newStore func(t *testing.T) access.Store) {
	tests := []struct {
		name string
		fn   func(*testing.T, access.Store)
	}{
		{"Users", testUsers},
		{"DeleteUserConflict", testDeleteUserConflict},
		{"AccessKeys", testAccessKeys},
		{"ConcurrentAccessKeyLimit", testConcurrentAccessKeys},
		{"Policies", testPolicies},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newStore(t)) })
	}
}

// accessAt is a time of the access tests, with nanoseconds a store cannot keep.
func accessAt(minute int) time.Time {
	return time.Date(2026, 2, 1, 9, minute, 0, 987654321, time.UTC)
}

func user(name string, minute int) access.User {
	return access.User{UserName: name, UserID: "AIDA" + name, Arn: "arn:aws:iam::000000000000:user/" + name, Path: "/", CreateDate: accessAt(minute)}
}

func createUser(t *testing.T, s access.Store, name string, minute int) {
	t.Helper()
	if err := s.CreateUser(ctx(t), user(name, minute)); err != nil {
		t.Fatalf("create user %s: %v", name, err)
	}
}

// sealed is key material as a Sealer writes it: arbitrary bytes, NULs and all.
func sealed(seed byte) []byte {
	out := make([]byte, 60)
	for i := range out {
		out[i] = seed + byte(i*37)
	}
	out[0], out[1] = 0, 0xff
	return out
}

func storedKey(id, userName string, seed byte, minute int) access.StoredKey {
	return access.StoredKey{AccessKeyID: id, UserName: userName, Status: access.StatusActive, Sealed: sealed(seed), CreateDate: accessAt(minute)}
}

// wantErr fails the test unless err wraps kind; what says which call it was.
func wantErr(t *testing.T, what string, err, kind error) {
	t.Helper()
	if !errors.Is(err, kind) {
		t.Errorf("%s: got %v, want %v", what, err, kind)
	}
}

func testUsers(t *testing.T, s access.Store) {
	for i, name := range []string{"carol", "alice", "bob"} {
		createUser(t, s, name, i)
	}
	got := must(s.GetUser(ctx(t), "alice"))(t)
	want := user("alice", 1)
	want.CreateDate = micro(want.CreateDate)
	if got != want {
		t.Fatalf("read back\n%+v, want\n%+v", got, want)
	}

	dup := user("alice", 9)
	dup.UserID = "AIDAother"
	wantErr(t, "create a taken name", s.CreateUser(ctx(t), dup), access.ErrEntityAlreadyExists)
	if got := must(s.GetUser(ctx(t), "alice"))(t); got.UserID != "AIDAalice" {
		t.Errorf("a refused create changed the user: %+v", got)
	}

	list := must(s.ListUsers(ctx(t)))(t)
	if names := ids(list, func(u access.User) string { return u.UserName }); fmt.Sprint(names) != "[alice bob carol]" {
		t.Fatalf("users listed as %v, want them by name", names)
	}

	_, err := s.GetUser(ctx(t), "nobody")
	wantErr(t, "get an unknown user", err, access.ErrNoSuchEntity)
	wantErr(t, "delete an unknown user", s.DeleteUser(ctx(t), "nobody"), access.ErrNoSuchEntity)

	if err := s.DeleteUser(ctx(t), "bob"); err != nil {
		t.Fatal(err)
	}
	_, err = s.GetUser(ctx(t), "bob")
	wantErr(t, "get a deleted user", err, access.ErrNoSuchEntity)
	wantErr(t, "delete a deleted user", s.DeleteUser(ctx(t), "bob"), access.ErrNoSuchEntity)
	if names := ids(must(s.ListUsers(ctx(t)))(t), func(u access.User) string { return u.UserName }); fmt.Sprint(names) != "[alice carol]" {
		t.Fatalf("after deleting bob: %v", names)
	}
	// The name is free again.
	createUser(t, s, "bob", 5)
}

// testDeleteUserConflict checks IAM's rule that a user's keys and policies go first: each one
// alone blocks the delete, which changes nothing, and once both are gone the delete succeeds.
func testDeleteUserConflict(t *testing.T, s access.Store) {
	createUser(t, s, "alice", 0)
	pol := access.UserPolicy{UserName: "alice", PolicyName: "p", PolicyDocument: `{}`, UpdateDate: accessAt(1)}
	steps := []struct {
		name    string
		prepare func() error
		want    error
	}{
		{"with a key", func() error { return s.CreateAccessKey(ctx(t), storedKey("AKIA1", "alice", 1, 1), 2) }, access.ErrDeleteConflict},
		{"with a key and a policy", func() error { return s.PutUserPolicy(ctx(t), pol, 10) }, access.ErrDeleteConflict},
		{"with a policy", func() error { return s.DeleteAccessKey(ctx(t), "alice", "AKIA1") }, access.ErrDeleteConflict},
		{"with neither", func() error { return s.DeleteUserPolicy(ctx(t), "alice", "p") }, nil},
	}
	for _, st := range steps {
		if err := st.prepare(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		err := s.DeleteUser(ctx(t), "alice")
		if st.want == nil {
			if err != nil {
				t.Fatalf("%s: delete: %v", st.name, err)
			}
			continue
		}
		wantErr(t, st.name, err, st.want)
		if _, err := s.GetUser(ctx(t), "alice"); err != nil {
			t.Fatalf("%s: a refused delete removed the user: %v", st.name, err)
		}
	}
	_, err := s.GetUser(ctx(t), "alice")
	wantErr(t, "get the deleted user", err, access.ErrNoSuchEntity)
}

func testAccessKeys(t *testing.T, s access.Store) {
	createUser(t, s, "alice", 0)
	createUser(t, s, "bob", 0)
	// The older key has the larger id: keys list by creation, not id.
	first := storedKey("AKIAZZZ", "alice", 1, 1)
	second := storedKey("AKIAAAA", "alice", 2, 2)
	for _, k := range []access.StoredKey{first, second} {
		if err := s.CreateAccessKey(ctx(t), k, 2); err != nil {
			t.Fatalf("create key %s: %v", k.AccessKeyID, err)
		}
	}
	got := must(s.GetAccessKey(ctx(t), first.AccessKeyID))(t)
	if got.AccessKeyID != first.AccessKeyID || got.UserName != "alice" || got.Status != access.StatusActive ||
		!bytes.Equal(got.Sealed, first.Sealed) || !got.CreateDate.Equal(micro(first.CreateDate)) {
		t.Fatalf("read back\n%+v, want\n%+v", got, first)
	}
	list := must(s.ListAccessKeys(ctx(t), "alice"))(t)
	if keyIDs := ids(list, func(k access.StoredKey) string { return k.AccessKeyID }); fmt.Sprint(keyIDs) != "[AKIAZZZ AKIAAAA]" {
		t.Fatalf("alice's keys listed as %v, want oldest first", keyIDs)
	}
	if !bytes.Equal(list[1].Sealed, second.Sealed) {
		t.Errorf("listed key's sealed secret %x, want %x", list[1].Sealed, second.Sealed)
	}
	if list := must(s.ListAccessKeys(ctx(t), "bob"))(t); len(list) != 0 {
		t.Errorf("bob has keys %v", list)
	}

	wantErr(t, "a third key with a limit of 2", s.CreateAccessKey(ctx(t), storedKey("AKIA3", "alice", 3, 3), 2), access.ErrLimitExceeded)
	_, err := s.GetAccessKey(ctx(t), "AKIA3")
	wantErr(t, "get the refused key", err, access.ErrNoSuchEntity)
	wantErr(t, "a key of an unknown user", s.CreateAccessKey(ctx(t), storedKey("AKIA4", "nobody", 4, 4), 2), access.ErrNoSuchEntity)
	_, err = s.GetAccessKey(ctx(t), "AKIA4")
	wantErr(t, "get the unknown user's key", err, access.ErrNoSuchEntity)

	wantErr(t, "delete alice's key as bob", s.DeleteAccessKey(ctx(t), "bob", first.AccessKeyID), access.ErrNoSuchEntity)
	if _, err := s.GetAccessKey(ctx(t), first.AccessKeyID); err != nil {
		t.Fatalf("a refused delete removed the key: %v", err)
	}
	if err := s.DeleteAccessKey(ctx(t), "alice", first.AccessKeyID); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "delete a deleted key", s.DeleteAccessKey(ctx(t), "alice", first.AccessKeyID), access.ErrNoSuchEntity)
	_, err = s.GetAccessKey(ctx(t), first.AccessKeyID)
	wantErr(t, "get a deleted key", err, access.ErrNoSuchEntity)
	// The delete freed a place under the limit.
	if err := s.CreateAccessKey(ctx(t), storedKey("AKIA3", "alice", 3, 3), 2); err != nil {
		t.Fatalf("a key after a delete: %v", err)
	}
	if keyIDs := ids(must(s.ListAccessKeys(ctx(t), "alice"))(t), func(k access.StoredKey) string { return k.AccessKeyID }); fmt.Sprint(keyIDs) != "[AKIAAAA AKIA3]" {
		t.Fatalf("alice's keys after delete and create: %v", keyIDs)
	}
}

// testConcurrentAccessKeys races ten creates against a limit of two: exactly two succeed, the
// rest fail with ErrLimitExceeded, and the user ends with two keys. It races for several
// users in turn, so that later rounds run on a store whose connections are already open and
// the calls overlap the more.
func testConcurrentAccessKeys(t *testing.T, s access.Store) {
	const rounds, calls, limit = 5, 10, 2
	for round := range rounds {
		name := fmt.Sprintf("racer%d", round)
		createUser(t, s, name, 0)
		errs := make([]error, calls)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range calls {
			wg.Go(func() {
				<-start
				errs[i] = s.CreateAccessKey(ctx(t), storedKey(fmt.Sprintf("AKIA%s%02d", name, i), name, byte(i), i), limit)
			})
		}
		close(start)
		wg.Wait()
		created := 0
		for i, err := range errs {
			switch {
			case err == nil:
				created++
			case !errors.Is(err, access.ErrLimitExceeded):
				t.Errorf("%s: create %d: %v", name, i, err)
			}
		}
		keys := must(s.ListAccessKeys(ctx(t), name))(t)
		if created != limit || len(keys) != limit {
			t.Fatalf("%s: %d concurrent creates under a limit of %d: %d succeeded, %d keys stored", name, calls, limit, created, len(keys))
		}
	}
}

func testPolicies(t *testing.T, s access.Store) {
	createUser(t, s, "alice", 0)
	createUser(t, s, "bob", 0)
	const limit = 2
	policy := func(userName, name, doc string, minute int) access.UserPolicy {
		return access.UserPolicy{UserName: userName, PolicyName: name, PolicyDocument: doc, UpdateDate: accessAt(minute)}
	}
	// The document is kept as written: spacing, key order and non-ASCII text.
	doc := "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [{\"Effect\": \"Allow\", \"Action\": \"emr-containers:*\", \"Resource\": \"*\", \"Sid\": \"équipe\"}]\n}"
	for _, p := range []access.UserPolicy{policy("alice", "zeta", doc, 1), policy("alice", "alpha", `{"Statement":[]}`, 2)} {
		if err := s.PutUserPolicy(ctx(t), p, limit); err != nil {
			t.Fatalf("put %s: %v", p.PolicyName, err)
		}
	}
	want := policy("alice", "zeta", doc, 1)
	want.UpdateDate = micro(want.UpdateDate)
	if got := must(s.GetUserPolicy(ctx(t), "alice", "zeta"))(t); got != want {
		t.Fatalf("read back\n%+v, want\n%+v", got, want)
	}

	// At the limit, replacing a policy is not a new one.
	replaced := policy("alice", "zeta", `{"Statement":[{"Effect":"Deny"}]}`, 3)
	if err := s.PutUserPolicy(ctx(t), replaced, limit); err != nil {
		t.Fatalf("replace at the limit: %v", err)
	}
	replaced.UpdateDate = micro(replaced.UpdateDate)
	if got := must(s.GetUserPolicy(ctx(t), "alice", "zeta"))(t); got != replaced {
		t.Fatalf("after replace\n%+v, want\n%+v", got, replaced)
	}
	wantErr(t, "a third policy with a limit of 2", s.PutUserPolicy(ctx(t), policy("alice", "mid", `{}`, 4), limit), access.ErrLimitExceeded)
	_, err := s.GetUserPolicy(ctx(t), "alice", "mid")
	wantErr(t, "get the refused policy", err, access.ErrNoSuchEntity)
	// The limit is per user: bob's first policy fits, under the same name as alice's.
	if err := s.PutUserPolicy(ctx(t), policy("bob", "zeta", `{}`, 4), limit); err != nil {
		t.Fatalf("bob's policy: %v", err)
	}
	wantErr(t, "a policy of an unknown user", s.PutUserPolicy(ctx(t), policy("nobody", "p", `{}`, 4), limit), access.ErrNoSuchEntity)

	list := must(s.ListUserPolicies(ctx(t), "alice"))(t)
	if names := ids(list, func(p access.UserPolicy) string { return p.PolicyName }); fmt.Sprint(names) != "[alpha zeta]" || list[1] != replaced {
		t.Fatalf("alice's policies listed as %v (%+v), want them by name", names, list)
	}

	for _, tc := range []struct{ user, name string }{{"alice", "mid"}, {"nobody", "zeta"}, {"bob", "alpha"}} {
		_, err := s.GetUserPolicy(ctx(t), tc.user, tc.name)
		wantErr(t, fmt.Sprintf("get %s's %s", tc.user, tc.name), err, access.ErrNoSuchEntity)
		wantErr(t, fmt.Sprintf("delete %s's %s", tc.user, tc.name), s.DeleteUserPolicy(ctx(t), tc.user, tc.name), access.ErrNoSuchEntity)
	}
	if err := s.DeleteUserPolicy(ctx(t), "alice", "zeta"); err != nil {
		t.Fatal(err)
	}
	_, err = s.GetUserPolicy(ctx(t), "alice", "zeta")
	wantErr(t, "get a deleted policy", err, access.ErrNoSuchEntity)
	if _, err := s.GetUserPolicy(ctx(t), "bob", "zeta"); err != nil {
		t.Fatalf("deleting alice's policy touched bob's: %v", err)
	}
	// The delete freed a place under the limit.
	if err := s.PutUserPolicy(ctx(t), policy("alice", "mid", `{}`, 5), limit); err != nil {
		t.Fatalf("a policy after a delete: %v", err)
	}
	if names := ids(must(s.ListUserPolicies(ctx(t), "alice"))(t), func(p access.UserPolicy) string { return p.PolicyName }); fmt.Sprint(names) != "[alpha mid]" {
		t.Fatalf("alice's policies after delete and put: %v", names)
	}
}
