package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/sparkplane/sparkplane/internal/access"
)

// The iam commands manage sparkplane's IAM-style users through the /iam extension routes.
// Their flags and output shapes are those of `aws iam`, whose users read them the same way:
// JSON by default (-o table and -o yaml as everywhere else), the answer's members named as
// IAM names them (User, AccessKey, PolicyNames, ...), and nothing printed for calls whose
// answer is empty (delete-*, put-user-policy).

// Help of the iam flags, shared by the commands that take them.
var (
	flagUserName       = [2]string{"user-name", "name of the user (required)"}
	flagPolicyName     = [2]string{"policy-name", "name of the user's inline policy (required)"}
	flagAccessKeyID    = [2]string{"access-key-id", "ID of the access key (required)"}
	flagPolicyDocument = [2]string{"policy-document", "the policy as JSON text, or file://path to a file holding it (required)"}
)

func (a *app) iamCmd() *cobra.Command {
	return group("iam", "Manage users, their access keys and inline policies, as aws iam does (sparkplane extension)",
		a.iamCreateUserCmd(), a.iamGetUserCmd(), a.iamListUsersCmd(), a.iamDeleteUserCmd(),
		a.iamCreateAccessKeyCmd(), a.iamListAccessKeysCmd(), a.iamDeleteAccessKeyCmd(),
		a.iamPutUserPolicyCmd(), a.iamGetUserPolicyCmd(), a.iamListUserPoliciesCmd(), a.iamDeleteUserPolicyCmd())
}

// userPath is the route of a user, with more segments appended (each escaped).
func userPath(userName string, more ...string) string {
	p := "/iam/users/" + url.PathEscape(userName)
	for _, m := range more {
		p += "/" + url.PathEscape(m)
	}
	return p
}

func (a *app) iamCreateUserCmd() *cobra.Command {
	return a.extensionCmd("create-user", "Create a user (CreateUser); prints the User with its Arn",
		"  sparkplane iam create-user --user-name ana", [][2]string{flagUserName},
		func(v map[string]string) (string, string, []byte, error) {
			body, err := json.Marshal(map[string]string{"userName": v["user-name"]})
			return http.MethodPost, "/iam/users", body, err
		}, showAnswer)
}

func (a *app) iamGetUserCmd() *cobra.Command {
	return a.extensionCmd("get-user", "Show a user (GetUser)", "  sparkplane iam get-user --user-name ana",
		[][2]string{flagUserName},
		func(v map[string]string) (string, string, []byte, error) {
			return http.MethodGet, userPath(v["user-name"]), nil, nil
		}, showAnswer)
}

func (a *app) iamListUsersCmd() *cobra.Command {
	return a.extensionCmd("list-users", "List every user (ListUsers)", "  sparkplane iam list-users -o table", nil,
		func(map[string]string) (string, string, []byte, error) {
			return http.MethodGet, "/iam/users", nil, nil
		},
		showItems("Users", []column[access.User]{
			{"USER NAME", func(u access.User) string { return u.UserName }},
			{"USER ID", func(u access.User) string { return u.UserID }},
			{"ARN", func(u access.User) string { return u.Arn }},
			{"CREATED", func(u access.User) string { return timeCell(&u.CreateDate) }},
		}))
}

func (a *app) iamDeleteUserCmd() *cobra.Command {
	return a.extensionCmd("delete-user", "Delete a user that has no access keys and no policies left (DeleteUser)",
		"  sparkplane iam delete-user --user-name ana", [][2]string{flagUserName},
		func(v map[string]string) (string, string, []byte, error) {
			return http.MethodDelete, userPath(v["user-name"]), nil, nil
		}, showNothing)
}

func (a *app) iamCreateAccessKeyCmd() *cobra.Command {
	c := a.extensionCmd("create-access-key", "Create an access key for a user (CreateAccessKey); the secret is shown this once",
		"  sparkplane iam create-access-key --user-name ana > ana-key.json", [][2]string{flagUserName},
		func(v map[string]string) (string, string, []byte, error) {
			return http.MethodPost, userPath(v["user-name"], "accesskeys"), nil, nil
		}, showAnswer)
	c.Long = `Create an access key for a user and print it with its SecretAccessKey. The server keeps
the secret sealed and never shows it again: store it now. A user has at most two keys.`
	return c
}

func (a *app) iamListAccessKeysCmd() *cobra.Command {
	return a.extensionCmd("list-access-keys", "List a user's access keys, without their secrets (ListAccessKeys)",
		"  sparkplane iam list-access-keys --user-name ana", [][2]string{flagUserName},
		func(v map[string]string) (string, string, []byte, error) {
			return http.MethodGet, userPath(v["user-name"], "accesskeys"), nil, nil
		},
		showItems("AccessKeyMetadata", []column[access.AccessKey]{
			{"ACCESS KEY ID", func(k access.AccessKey) string { return k.AccessKeyID }},
			{"STATUS", func(k access.AccessKey) string { return k.Status }},
			{"USER NAME", func(k access.AccessKey) string { return k.UserName }},
			{"CREATED", func(k access.AccessKey) string { return timeCell(&k.CreateDate) }},
		}))
}

func (a *app) iamDeleteAccessKeyCmd() *cobra.Command {
	return a.extensionCmd("delete-access-key", "Delete a user's access key (DeleteAccessKey); requests signed with it fail from then on",
		"  sparkplane iam delete-access-key --user-name ana --access-key-id AKIAEXAMPLE1234567890",
		[][2]string{flagUserName, flagAccessKeyID},
		func(v map[string]string) (string, string, []byte, error) {
			return http.MethodDelete, userPath(v["user-name"], "accesskeys", v["access-key-id"]), nil, nil
		}, showNothing)
}

func (a *app) iamPutUserPolicyCmd() *cobra.Command {
	c := a.extensionCmd("put-user-policy", "Create or replace a user's inline policy (PutUserPolicy)",
		`  sparkplane iam put-user-policy --user-name ana --policy-name run-jobs --policy-document file://run-jobs.json
  sparkplane iam put-user-policy --user-name ana --policy-name read-only \
    --policy-document '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"emr-containers:Describe*","Resource":"*"}]}'`,
		[][2]string{flagUserName, flagPolicyName, flagPolicyDocument},
		func(v map[string]string) (string, string, []byte, error) {
			doc, err := loadParam(v["policy-document"])
			if err != nil {
				return "", "", nil, fmt.Errorf("--policy-document: %w", err)
			}
			if strings.TrimSpace(doc) == "" {
				return "", "", nil, errors.New("--policy-document: value is empty")
			}
			// The document goes as the author wrote it: the server checks it and names the
			// line and column of a mistake, which must be those of the author's text.
			body, err := json.Marshal(map[string]string{"policyDocument": doc})
			return http.MethodPut, userPath(v["user-name"], "policies", v["policy-name"]), body, err
		}, showNothing)
	c.Long = `Create or replace a user's inline policy. The document is IAM's policy language (Version,
Statement with Effect, Action or NotAction, Resource or NotResource, Condition) over the actions
emr-containers:* and sparkplane:*; the server refuses a malformed one with
MalformedPolicyDocumentException naming the line and column of the mistake.`
	return c
}

func (a *app) iamGetUserPolicyCmd() *cobra.Command {
	return a.extensionCmd("get-user-policy", "Show a user's inline policy (GetUserPolicy)",
		"  sparkplane iam get-user-policy --user-name ana --policy-name run-jobs",
		[][2]string{flagUserName, flagPolicyName},
		func(v map[string]string) (string, string, []byte, error) {
			return http.MethodGet, userPath(v["user-name"], "policies", v["policy-name"]), nil, nil
		}, showUserPolicy)
}

func (a *app) iamListUserPoliciesCmd() *cobra.Command {
	return a.extensionCmd("list-user-policies", "List the names of a user's inline policies (ListUserPolicies)",
		"  sparkplane iam list-user-policies --user-name ana", [][2]string{flagUserName},
		func(v map[string]string) (string, string, []byte, error) {
			return http.MethodGet, userPath(v["user-name"], "policies"), nil, nil
		},
		showItems("PolicyNames", []column[string]{{"POLICY NAME", func(s string) string { return s }}}))
}

func (a *app) iamDeleteUserPolicyCmd() *cobra.Command {
	return a.extensionCmd("delete-user-policy", "Delete a user's inline policy (DeleteUserPolicy)",
		"  sparkplane iam delete-user-policy --user-name ana --policy-name run-jobs",
		[][2]string{flagUserName, flagPolicyName},
		func(v map[string]string) (string, string, []byte, error) {
			return http.MethodDelete, userPath(v["user-name"], "policies", v["policy-name"]), nil, nil
		}, showNothing)
}

// showItems is the show of a listing answer {member: [items]}: as it came for JSON and YAML,
// a table of cols otherwise.
func showItems[T any](member string, cols []column[T]) func(*app, io.Writer, []byte) error {
	return func(a *app, w io.Writer, raw []byte) error {
		if ok, err := a.printRaw(w, raw); ok {
			return err
		}
		var answer map[string][]T
		if err := json.Unmarshal(raw, &answer); err != nil {
			return fmt.Errorf("decode %s: %w", member, err)
		}
		return printList(a, w, nil, answer[member], cols, nil)
	}
}

// showUserPolicy prints GetUserPolicy's answer with PolicyDocument as the JSON object it
// holds rather than a string of JSON, as the aws CLI prints it.
func showUserPolicy(a *app, w io.Writer, raw []byte) error {
	var p access.UserPolicy
	if err := json.Unmarshal(raw, &p); err != nil {
		return fmt.Errorf("decode policy: %w", err)
	}
	doc := json.RawMessage(p.PolicyDocument)
	if !json.Valid(doc) {
		// Stored documents were parsed when they were put; should one not be JSON, show the
		// text as it is.
		doc, _ = json.Marshal(p.PolicyDocument)
	}
	out, err := json.Marshal(struct {
		UserName       string          `json:"UserName"`
		PolicyName     string          `json:"PolicyName"`
		PolicyDocument json.RawMessage `json:"PolicyDocument"`
		UpdateDate     time.Time       `json:"UpdateDate"`
	}{p.UserName, p.PolicyName, doc, p.UpdateDate})
	if err != nil {
		return fmt.Errorf("encode output: %w", err)
	}
	return a.printAnswer(w, out)
}
