package access

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/sparkplane/sparkplane/internal/iam"
)

// IAM's limits, and sparkplane's where it sets its own.
const (
	// MaxKeysPerUser is IAM's limit of access keys per user.
	MaxKeysPerUser = 2
	// MaxPoliciesPerUser is sparkplane's limit of inline policies per user. IAM bounds a
	// user's inline policies by their total size (2,048 characters) instead; sparkplane
	// allows more, since it has no managed policies or groups to share statements.
	MaxPoliciesPerUser = 50
	// MaxPolicyBytes bounds one policy document (IAM's managed-policy limit).
	MaxPolicyBytes = 6144
	// CacheTTL is how long a looked-up identity is used before it is read again.
	CacheTTL = 5 * time.Second
	// maxCached bounds the identity cache; when full it is emptied.
	maxCached = 10000
)

var (
	reUserName   = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)
	rePolicyName = regexp.MustCompile(`^[\w+=,.@-]{1,128}$`)
	reKeyID      = regexp.MustCompile(`^[A-Z0-9]{16,128}$`)
)

// StaticKey is an administrator's key from the configuration file.
type StaticKey struct {
	AccessKeyID     string
	SecretAccessKey string
	Principal       string
}

// Identity is who signed a request and what they may do.
type Identity struct {
	AccessKeyID string
	// Secret is the secret access key the signature is checked with; never log it.
	Secret string
	// Principal is the caller's ARN.
	Principal string
	// UserName is "" for the configuration's keys.
	UserName string
	Policies []*iam.Policy
	// Admin marks the configuration's keys, whose one policy allows everything.
	Admin bool
	// UsesResourceTags is true when a policy has an aws:ResourceTag condition, so the
	// authorizer reads a resource's tags only for callers whose decision can depend on them.
	UsesResourceTags bool
}

// adminPolicy is the policy of the configuration's keys.
var adminPolicy = func() *iam.Policy {
	p, err := iam.Parse("administrator (configuration key)", []byte(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`))
	if err != nil {
		panic(err)
	}
	return p
}()

// denyAll stands for a user's policies when one of them no longer parses.
var denyAll = func() *iam.Policy {
	p, err := iam.Parse("a stored policy of this user does not parse on this server", []byte(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}`))
	if err != nil {
		panic(err)
	}
	return p
}()

// Directory manages users, keys and policies, and looks identities up for the API. It is
// safe for concurrent use.
type Directory struct {
	store   Store
	sealer  *Sealer
	account string
	now     func() time.Time
	static  map[string]Identity

	mu    sync.Mutex
	cache map[string]cached
}

type cached struct {
	id      Identity
	found   bool
	expires time.Time
}

// Options configure a Directory.
type Options struct {
	// Store keeps users, keys and policies; nil leaves only the static keys.
	Store Store
	// Sealer seals secrets; nil refuses CreateAccessKey with an error naming the setting.
	Sealer *Sealer
	// AccountID goes into user ARNs.
	AccountID string
	// Static are the configuration's administrator keys.
	Static []StaticKey
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// NewDirectory returns a Directory.
func NewDirectory(o Options) *Directory {
	d := &Directory{store: o.Store, sealer: o.Sealer, account: o.AccountID, now: o.Now, static: map[string]Identity{}, cache: map[string]cached{}}
	if d.now == nil {
		d.now = time.Now
	}
	for _, k := range o.Static {
		d.static[k.AccessKeyID] = Identity{AccessKeyID: k.AccessKeyID, Secret: k.SecretAccessKey, Principal: k.Principal,
			Policies: []*iam.Policy{adminPolicy}, Admin: true}
	}
	return d
}

// UserARN is the ARN of a user of this account.
func (d *Directory) UserARN(name string) string {
	return "arn:aws:iam::" + d.account + ":user/" + name
}

// Lookup returns the identity of an access key id, or ok false when no active key has it.
func (d *Directory) Lookup(ctx context.Context, accessKeyID string) (Identity, bool, error) {
	if id, ok := d.static[accessKeyID]; ok {
		return id, true, nil
	}
	if d.store == nil || !reKeyID.MatchString(accessKeyID) {
		return Identity{}, false, nil
	}
	now := d.now()
	d.mu.Lock()
	c, hit := d.cache[accessKeyID]
	d.mu.Unlock()
	if hit && now.Before(c.expires) {
		return c.id, c.found, nil
	}
	id, found, err := d.load(ctx, accessKeyID)
	if err != nil {
		return Identity{}, false, err
	}
	d.mu.Lock()
	if len(d.cache) >= maxCached {
		clear(d.cache)
	}
	d.cache[accessKeyID] = cached{id: id, found: found, expires: now.Add(CacheTTL)}
	d.mu.Unlock()
	return id, found, nil
}

func (d *Directory) load(ctx context.Context, accessKeyID string) (Identity, bool, error) {
	k, err := d.store.GetAccessKey(ctx, accessKeyID)
	if errors.Is(err, ErrNoSuchEntity) {
		return Identity{}, false, nil
	}
	if err != nil {
		return Identity{}, false, err
	}
	if k.Status != StatusActive {
		return Identity{}, false, nil
	}
	if d.sealer == nil {
		return Identity{}, false, errors.New("access keys are stored but no secrets key is configured (secretsKeyFile, SPARKPLANE_SECRETS_KEY): they cannot be checked")
	}
	secret, err := d.sealer.Open(k.AccessKeyID, k.Sealed)
	if err != nil {
		return Identity{}, false, err
	}
	u, err := d.store.GetUser(ctx, k.UserName)
	if err != nil {
		return Identity{}, false, err
	}
	docs, err := d.store.ListUserPolicies(ctx, k.UserName)
	if err != nil {
		return Identity{}, false, err
	}
	id := Identity{AccessKeyID: k.AccessKeyID, Secret: secret, Principal: u.Arn, UserName: u.UserName}
	for _, doc := range docs {
		p, err := iam.Parse(doc.PolicyName, []byte(doc.PolicyDocument))
		if err != nil {
			// Stored policies were parsed when they were put; one that no longer parses (a
			// newer server wrote it) could hold a Deny: the user may do nothing until it is
			// fixed, rather than more than meant.
			return Identity{AccessKeyID: k.AccessKeyID, Secret: secret, Principal: u.Arn, UserName: u.UserName,
				Policies: []*iam.Policy{denyAll}}, true, nil
		}
		id.Policies = append(id.Policies, p)
		id.UsesResourceTags = id.UsesResourceTags || usesResourceTags(p)
	}
	return id, true, nil
}

func usesResourceTags(p *iam.Policy) bool {
	for _, s := range p.Statements {
		for _, c := range s.Conditions {
			if strings.HasPrefix(strings.ToLower(c.Key), "aws:resourcetag/") {
				return true
			}
		}
	}
	return false
}

// forget drops the cached identities of a user after a change made here.
func (d *Directory) forget(userName string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for k, c := range d.cache {
		if !c.found || c.id.UserName == userName {
			delete(d.cache, k)
		}
	}
}

func (d *Directory) checkUserName(name string) error {
	if !reUserName.MatchString(name) {
		return &iamValidation{Field: "userName", Rule: `must be 1 to 64 characters of letters, digits and _+=,.@-, got "` + name + `"`}
	}
	return nil
}

// iamValidation is a bad argument; the API answers ValidationException.
type iamValidation struct{ Field, Rule string }

func (e *iamValidation) Error() string { return e.Field + ": " + e.Rule }

// IsValidation reports whether err is a bad argument to a Directory method, and returns its
// field and rule.
func IsValidation(err error) (field, rule string, ok bool) {
	var v *iamValidation
	if errors.As(err, &v) {
		return v.Field, v.Rule, true
	}
	return "", "", false
}

// usable checks a user name and that users are kept at all; with exists it also checks that
// the user exists.
func (d *Directory) usable(ctx context.Context, userName string, exists bool) error {
	if err := d.checkUserName(userName); err != nil {
		return err
	}
	if err := d.requireStore(); err != nil {
		return err
	}
	if exists {
		if _, err := d.store.GetUser(ctx, userName); err != nil {
			return err
		}
	}
	return nil
}

func (d *Directory) requireStore() error {
	if d.store == nil {
		return errors.New("this server keeps no users: it has no store")
	}
	return nil
}

// CreateUser creates a user.
func (d *Directory) CreateUser(ctx context.Context, name string) (User, error) {
	if err := d.checkUserName(name); err != nil {
		return User{}, err
	}
	if err := d.requireStore(); err != nil {
		return User{}, err
	}
	for _, k := range d.static {
		if k.Principal == d.UserARN(name) {
			return User{}, &iamValidation{Field: "userName", Rule: fmt.Sprintf("%q is the principal of an administrator key in the server configuration; choose another name", k.Principal)}
		}
	}
	u := User{UserName: name, UserID: "AIDA" + randomUpper(17), Arn: d.UserARN(name), Path: "/", CreateDate: d.now().UTC().Truncate(time.Microsecond)}
	if err := d.store.CreateUser(ctx, u); err != nil {
		return User{}, err
	}
	return u, nil
}

// GetUser returns a user.
func (d *Directory) GetUser(ctx context.Context, name string) (User, error) {
	if err := d.checkUserName(name); err != nil {
		return User{}, err
	}
	if err := d.requireStore(); err != nil {
		return User{}, err
	}
	return d.store.GetUser(ctx, name)
}

// ListUsers returns every user.
func (d *Directory) ListUsers(ctx context.Context) ([]User, error) {
	if err := d.requireStore(); err != nil {
		return nil, err
	}
	return d.store.ListUsers(ctx)
}

// DeleteUser deletes a user that has no keys and no policies left, as IAM requires.
func (d *Directory) DeleteUser(ctx context.Context, name string) error {
	if err := d.checkUserName(name); err != nil {
		return err
	}
	if err := d.requireStore(); err != nil {
		return err
	}
	defer d.forget(name)
	return d.store.DeleteUser(ctx, name)
}

// CreateAccessKey creates an access key for a user and returns it with its secret, which is
// shown this once.
func (d *Directory) CreateAccessKey(ctx context.Context, userName string) (AccessKey, error) {
	if err := d.checkUserName(userName); err != nil {
		return AccessKey{}, err
	}
	if err := d.requireStore(); err != nil {
		return AccessKey{}, err
	}
	if d.sealer == nil {
		return AccessKey{}, errors.New("no secrets key is configured (secretsKeyFile in the configuration, or SPARKPLANE_SECRETS_KEY): access keys cannot be stored safely")
	}
	k := AccessKey{UserName: userName, AccessKeyID: "AKIA" + randomUpper(16), Status: StatusActive,
		SecretAccessKey: randomSecret(40), CreateDate: d.now().UTC().Truncate(time.Microsecond)}
	sealed, err := d.sealer.Seal(k.AccessKeyID, k.SecretAccessKey)
	if err != nil {
		return AccessKey{}, err
	}
	if err := d.store.CreateAccessKey(ctx, StoredKey{AccessKeyID: k.AccessKeyID, UserName: userName, Status: k.Status, Sealed: sealed, CreateDate: k.CreateDate}, MaxKeysPerUser); err != nil {
		return AccessKey{}, err
	}
	d.forget(userName)
	return k, nil
}

// ListAccessKeys returns a user's keys, without secrets.
func (d *Directory) ListAccessKeys(ctx context.Context, userName string) ([]AccessKey, error) {
	if err := d.usable(ctx, userName, true); err != nil {
		return nil, err
	}
	keys, err := d.store.ListAccessKeys(ctx, userName)
	if err != nil {
		return nil, err
	}
	out := make([]AccessKey, len(keys))
	for i, k := range keys {
		out[i] = AccessKey{UserName: k.UserName, AccessKeyID: k.AccessKeyID, Status: k.Status, CreateDate: k.CreateDate}
	}
	return out, nil
}

// DeleteAccessKey deletes a user's key; requests signed with it fail from then on (on other
// replicas within CacheTTL).
func (d *Directory) DeleteAccessKey(ctx context.Context, userName, accessKeyID string) error {
	if err := d.checkUserName(userName); err != nil {
		return err
	}
	if !reKeyID.MatchString(accessKeyID) {
		return &iamValidation{Field: "accessKeyId", Rule: "must be 16 to 128 upper-case letters and digits"}
	}
	if err := d.requireStore(); err != nil {
		return err
	}
	defer d.forget(userName)
	return d.store.DeleteAccessKey(ctx, userName, accessKeyID)
}

// PutUserPolicy parses a policy document and stores it as the user's policy of that name,
// replacing one of the same name. A document that does not parse is refused with
// ErrMalformedPolicy and the line, column and rule.
func (d *Directory) PutUserPolicy(ctx context.Context, userName, policyName, document string) error {
	if err := d.checkUserName(userName); err != nil {
		return err
	}
	if !rePolicyName.MatchString(policyName) {
		return &iamValidation{Field: "policyName", Rule: `must be 1 to 128 characters of letters, digits and _+=,.@-, got "` + policyName + `"`}
	}
	if len(document) > MaxPolicyBytes {
		return fail(ErrMalformedPolicy, "policyDocument: must be at most %d bytes, got %d", MaxPolicyBytes, len(document))
	}
	if _, err := iam.Parse(policyName, []byte(document)); err != nil {
		return fail(ErrMalformedPolicy, "policyDocument: %v", err)
	}
	if err := d.requireStore(); err != nil {
		return err
	}
	if _, err := d.store.GetUser(ctx, userName); err != nil {
		return err
	}
	defer d.forget(userName)
	return d.store.PutUserPolicy(ctx, UserPolicy{UserName: userName, PolicyName: policyName, PolicyDocument: document,
		UpdateDate: d.now().UTC().Truncate(time.Microsecond)}, MaxPoliciesPerUser)
}

// GetUserPolicy returns one policy of a user.
func (d *Directory) GetUserPolicy(ctx context.Context, userName, policyName string) (UserPolicy, error) {
	if err := d.checkUserName(userName); err != nil {
		return UserPolicy{}, err
	}
	if err := d.requireStore(); err != nil {
		return UserPolicy{}, err
	}
	return d.store.GetUserPolicy(ctx, userName, policyName)
}

// ListUserPolicies returns the names of a user's policies.
func (d *Directory) ListUserPolicies(ctx context.Context, userName string) ([]string, error) {
	if err := d.usable(ctx, userName, true); err != nil {
		return nil, err
	}
	list, err := d.store.ListUserPolicies(ctx, userName)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(list))
	for i, p := range list {
		names[i] = p.PolicyName
	}
	return names, nil
}

// DeleteUserPolicy deletes one policy of a user.
func (d *Directory) DeleteUserPolicy(ctx context.Context, userName, policyName string) error {
	if err := d.usable(ctx, userName, false); err != nil {
		return err
	}
	defer d.forget(userName)
	return d.store.DeleteUserPolicy(ctx, userName, policyName)
}

const upperDigits = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"

func randomUpper(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = upperDigits[int(b[i])%len(upperDigits)]
	}
	return string(b)
}

const secretChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

func randomSecret(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = secretChars[int(b[i])%len(secretChars)]
	}
	return string(b)
}
