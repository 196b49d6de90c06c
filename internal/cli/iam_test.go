package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// runDefault runs a command without -o, so with its group's default output, and decodes the
// JSON it prints.
func runDefault(t *testing.T, args ...string) map[string]any {
	t.Helper()
	out, stderr, err := execute(t, args...)
	if err != nil {
		t.Fatalf("sparkplane %s: %v (stderr %q)", strings.Join(args, " "), err, stderr)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatalf("sparkplane %s: output %q is not JSON: %v", strings.Join(args, " "), out, err)
	}
	return m
}

// runQuiet runs a command whose answer is empty and checks that it printed nothing.
func runQuiet(t *testing.T, args ...string) {
	t.Helper()
	out, stderr, err := execute(t, args...)
	if err != nil || out != "" {
		t.Fatalf("sparkplane %s: %v, stdout %q (stderr %q); want no error and no output", strings.Join(args, " "), err, out, stderr)
	}
}

// wantError runs a command that must fail with an error starting with want, printed by cobra
// as "Error: <want>...", and exit code ExitError.
func wantError(t *testing.T, want string, args ...string) error {
	t.Helper()
	_, stderr, err := execute(t, args...)
	if err == nil || !strings.HasPrefix(err.Error(), want) || !strings.HasPrefix(stderr, "Error: "+want) {
		t.Fatalf("sparkplane %s: error %v, stderr %q; want %q", strings.Join(args, " "), err, stderr, want)
	}
	if ExitCode(err) != ExitError {
		t.Errorf("sparkplane %s: exit code %d, want %d", strings.Join(args, " "), ExitCode(err), ExitError)
	}
	return err
}

// writeFile writes content to a file in a test directory and returns its path.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestIAMCommands runs the iam commands against the real server: a user's whole life, its
// key used to sign requests, and the errors IAM answers with.
func TestIAMCommands(t *testing.T) {
	srv := startServer(t)
	arn := "arn:aws:iam::" + srv.AccountID + ":user/ana"

	// JSON is the default output, in aws iam's shapes.
	user := runDefault(t, "iam", "create-user", "--user-name", "ana")["User"].(map[string]any)
	if user["UserName"] != "ana" || user["Arn"] != arn || user["Path"] != "/" || !strings.HasPrefix(user["UserId"].(string), "AIDA") || user["CreateDate"] == nil {
		t.Fatalf("create-user = %v", user)
	}
	key := runDefault(t, "iam", "create-access-key", "--user-name", "ana")["AccessKey"].(map[string]any)
	keyID, secret := key["AccessKeyId"].(string), key["SecretAccessKey"].(string)
	if key["UserName"] != "ana" || key["Status"] != "Active" || !strings.HasPrefix(keyID, "AKIA") || len(secret) != 40 {
		t.Fatalf("create-access-key = %v", key)
	}
	keys := runDefault(t, "iam", "list-access-keys", "--user-name", "ana")["AccessKeyMetadata"].([]any)
	if len(keys) != 1 || keys[0].(map[string]any)["AccessKeyId"] != keyID || keys[0].(map[string]any)["SecretAccessKey"] != nil {
		t.Fatalf("list-access-keys = %v, want the key without its secret", keys)
	}

	// A policy from a file and one inline, both printed back with the document as an object.
	policyFile := writeFile(t, "list-clusters.json", `{
  "Version": "2012-10-17",
  "Statement": [
    {"Effect": "Allow", "Action": "emr-containers:ListVirtualClusters", "Resource": "*"}
  ]
}`)
	runQuiet(t, "iam", "put-user-policy", "--user-name", "ana", "--policy-name", "list-clusters", "--policy-document", "file://"+policyFile)
	runQuiet(t, "iam", "put-user-policy", "--user-name", "ana", "--policy-name", "describe",
		"--policy-document", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"emr-containers:Describe*","Resource":"*"}]}`)
	if names := runDefault(t, "iam", "list-user-policies", "--user-name", "ana")["PolicyNames"].([]any); len(names) != 2 || names[0] != "describe" || names[1] != "list-clusters" {
		t.Fatalf("list-user-policies = %v", names)
	}
	pol := runDefault(t, "iam", "get-user-policy", "--user-name", "ana", "--policy-name", "list-clusters")
	doc, ok := pol["PolicyDocument"].(map[string]any)
	if !ok || pol["UserName"] != "ana" || pol["PolicyName"] != "list-clusters" || doc["Version"] != "2012-10-17" ||
		doc["Statement"].([]any)[0].(map[string]any)["Action"] != "emr-containers:ListVirtualClusters" {
		t.Fatalf("get-user-policy = %v", pol)
	}

	// A malformed document is refused with the line and column of the mistake in the file.
	badFile := writeFile(t, "bad.json", `{
  "Version": "2012-10-17",
  "Statement": [
    {"Effect": "allow", "Action": "*", "Resource": "*"}
  ]
}`)
	err := wantError(t, "MalformedPolicyDocumentException: ", "iam", "put-user-policy", "--user-name", "ana", "--policy-name", "bad", "--policy-document", "file://"+badFile)
	if !strings.Contains(err.Error(), `line 4, column 16: Statement[0].Effect: must be "Allow" or "Deny", got "allow"`) {
		t.Errorf("malformed policy: %v, want the line and column", err)
	}
	wantError(t, "MalformedPolicyDocumentException: policyDocument: line 1", "iam", "put-user-policy", "--user-name", "ana", "--policy-name", "bad", "--policy-document", `{"Version":"2012-10-17",`)

	// Tables, for -o table.
	out, _, err := execute(t, "iam", "list-users", "-o", "table")
	if lines := strings.Split(strings.TrimSpace(out), "\n"); err != nil || len(lines) != 2 || !strings.HasPrefix(lines[0], "USER NAME") || !strings.Contains(lines[1], arn) {
		t.Errorf("list-users -o table:\n%s\n%v", out, err)
	}
	out, _, err = execute(t, "iam", "get-user", "--user-name", "ana", "-o", "table")
	if err != nil || !strings.Contains(normalizeSpaces(out), "Arn "+arn+"\n") || !strings.Contains(out, "UserName") {
		t.Errorf("get-user -o table:\n%s\n%v", out, err)
	}
	out, _, err = execute(t, "iam", "get-user-policy", "--user-name", "ana", "--policy-name", "list-clusters", "-o", "table")
	if err != nil || !strings.Contains(normalizeSpaces(out), "PolicyDocument.Statement[0].Effect Allow\n") {
		t.Errorf("get-user-policy -o table:\n%s\n%v", out, err)
	}
	out, _, err = execute(t, "iam", "list-access-keys", "--user-name", "ana", "-o", "yaml")
	if err != nil || !strings.Contains(out, "AccessKeyId: "+keyID) {
		t.Errorf("list-access-keys -o yaml:\n%s\n%v", out, err)
	}

	// The new key signs requests, and its policies decide what it may do.
	t.Run("the user's key", func(t *testing.T) {
		t.Setenv("AWS_ACCESS_KEY_ID", keyID)
		t.Setenv("AWS_SECRET_ACCESS_KEY", secret)
		if _, _, err := execute(t, "virtual-clusters", "list"); err != nil {
			t.Errorf("virtual-clusters list with a policy allowing it: %v", err)
		}
		err := wantError(t, "AccessDeniedException: ", "iam", "list-users")
		if !strings.Contains(err.Error(), arn) || !strings.Contains(err.Error(), "sparkplane:ListUsers") {
			t.Errorf("denied list-users: %v", err)
		}
	})

	// IAM's rules: no user with keys or policies is deleted, at most two keys, no twin names.
	wantError(t, "DeleteConflictException: ", "iam", "delete-user", "--user-name", "ana")
	second := runJSON(t, "iam", "create-access-key", "--user-name", "ana")["AccessKey"].(map[string]any)["AccessKeyId"].(string)
	wantError(t, "LimitExceededException: ", "iam", "create-access-key", "--user-name", "ana")
	wantError(t, "EntityAlreadyExistsException: ", "iam", "create-user", "--user-name", "ana")
	wantError(t, "NoSuchEntityException: ", "iam", "get-user", "--user-name", "bob")
	wantError(t, "NoSuchEntityException: ", "iam", "get-user-policy", "--user-name", "ana", "--policy-name", "nope")
	wantError(t, "ValidationException: userName: ", "iam", "create-user", "--user-name", "a b")

	for _, k := range []string{keyID, second} {
		runQuiet(t, "iam", "delete-access-key", "--user-name", "ana", "--access-key-id", k)
	}
	for _, p := range []string{"describe", "list-clusters"} {
		runQuiet(t, "iam", "delete-user-policy", "--user-name", "ana", "--policy-name", p)
	}
	if keys := runDefault(t, "iam", "list-access-keys", "--user-name", "ana")["AccessKeyMetadata"].([]any); len(keys) != 0 {
		t.Errorf("keys after delete-access-key: %v", keys)
	}
	if names := runDefault(t, "iam", "list-user-policies", "--user-name", "ana")["PolicyNames"].([]any); len(names) != 0 {
		t.Errorf("policies after delete-user-policy: %v", names)
	}
	runQuiet(t, "iam", "delete-user", "--user-name", "ana")
	wantError(t, "NoSuchEntityException: ", "iam", "get-user", "--user-name", "ana")
	if users := runDefault(t, "iam", "list-users")["Users"].([]any); len(users) != 0 {
		t.Errorf("users after delete-user: %v", users)
	}
}

// TestIAMBadInput checks the flags refused before any request is sent (the endpoint is a
// closed port).
func TestIAMBadInput(t *testing.T) {
	isolateEnv(t)
	closed := "http://127.0.0.1:1"
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"create-user without name", []string{"create-user"}, `required flag(s) "user-name" not set`},
		{"get-user-policy without policy", []string{"get-user-policy", "--user-name", "ana"}, `required flag(s) "policy-name" not set`},
		{"delete-access-key without key", []string{"delete-access-key", "--user-name", "ana"}, `required flag(s) "access-key-id" not set`},
		{"put-user-policy without document", []string{"put-user-policy", "--user-name", "ana", "--policy-name", "p"}, `required flag(s) "policy-document" not set`},
		{"missing policy file", []string{"put-user-policy", "--user-name", "ana", "--policy-name", "p", "--policy-document", "file://does-not-exist.json"}, "--policy-document: read file://does-not-exist.json"},
		{"empty policy", []string{"put-user-policy", "--user-name", "ana", "--policy-name", "p", "--policy-document", " "}, "--policy-document: value is empty"},
		{"argument", []string{"list-users", "extra"}, `unknown command "extra"`},
		{"bad output", []string{"list-users", "-o", "text"}, `--output: "text" is not one of table, json, yaml`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := execute(t, append(append([]string{"iam"}, tt.args...), "--endpoint-url", closed)...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}
