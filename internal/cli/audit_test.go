package cli

import (
	"strings"
	"testing"
	"time"
)

// auditEvents runs `audit list` with -o json and returns its events and nextToken.
func auditEvents(t *testing.T, args ...string) ([]map[string]any, any) {
	t.Helper()
	m := runJSON(t, append([]string{"audit", "list"}, args...)...)
	var events []map[string]any
	for _, e := range m["events"].([]any) {
		events = append(events, e.(map[string]any))
	}
	return events, m["nextToken"]
}

// TestAuditCommand lists the audit events of calls just made through the CLI. Calls that
// change something, and refusals, are stored before they are answered, so the test filters
// on those; reads are recorded without waiting.
func TestAuditCommand(t *testing.T) {
	srv := startServer(t)
	arn := "arn:aws:iam::" + srv.AccountID + ":user/ana"
	runJSON(t, "iam", "create-user", "--user-name", "ana")
	wantError(t, "EntityAlreadyExistsException: ", "iam", "create-user", "--user-name", "ana")
	key := runJSON(t, "iam", "create-access-key", "--user-name", "ana")["AccessKey"].(map[string]any)
	t.Run("denied call", func(t *testing.T) {
		t.Setenv("AWS_ACCESS_KEY_ID", key["AccessKeyId"].(string))
		t.Setenv("AWS_SECRET_ACCESS_KEY", key["SecretAccessKey"].(string))
		wantError(t, "AccessDeniedException: ", "iam", "delete-user", "--user-name", "ana")
	})
	// Every call so far changed something or was refused, so all their events are stored
	// before they were answered; listings that end here keep the records of the listings out.
	until := time.Now().UTC().Format(time.RFC3339Nano)

	creates, next := auditEvents(t, "--since", "1h", "--action", "sparkplane:CreateUser")
	if len(creates) != 2 || next != nil {
		t.Fatalf("--action sparkplane:CreateUser = %v (nextToken %v), want 2 events", creates, next)
	}
	ok, failed := creates[0], creates[1]
	if ok["outcome"] != "allowed" || ok["principal"] != srv.Principal || ok["accessKeyId"] != srv.AccessKeyID || ok["resource"] != arn ||
		ok["httpStatus"] != 200.0 || ok["requestId"] == "" || ok["sourceAddress"] != "127.0.0.1" {
		t.Errorf("allowed CreateUser event = %v", ok)
	}
	if failed["outcome"] != "failed" || failed["errorCode"] != "EntityAlreadyExistsException" || failed["httpStatus"] != 409.0 {
		t.Errorf("failed CreateUser event = %v", failed)
	}
	for _, e := range creates {
		if _, err := time.Parse(time.RFC3339, e["time"].(string)); err != nil || e["action"] != "sparkplane:CreateUser" {
			t.Errorf("event %v: time %v", e, err)
		}
	}

	denied, _ := auditEvents(t, "--action", "sparkplane:DeleteUser", "--principal", arn)
	if len(denied) != 1 || denied[0]["outcome"] != "denied" || denied[0]["errorCode"] != "AccessDeniedException" || denied[0]["resource"] != arn {
		t.Errorf("denied DeleteUser events = %v", denied)
	}

	all, _ := auditEvents(t, "--since", "1h", "--until", until)
	if len(all) != 4 {
		t.Fatalf("--until %s: %v, want the 4 calls made", until, all)
	}
	tests := []struct {
		name string
		args []string
		want int
	}{
		{"action in another case", []string{"--action", "SPARKPLANE:createuser"}, 2},
		{"one principal", []string{"--principal", srv.Principal, "--until", until}, 3},
		{"one per page, all pages followed", []string{"--until", until, "--max-results", "1"}, 4},
		{"another principal", []string{"--principal", "arn:aws:iam::" + srv.AccountID + ":user/nobody"}, 0},
		{"range before the calls", []string{"--since", "2h", "--until", "1h"}, 0},
		{"since an ISO time", []string{"--since", time.Now().Add(-time.Hour).UTC().Format(time.RFC3339), "--action", "sparkplane:CreateAccessKey"}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			events, next := auditEvents(t, tt.args...)
			if len(events) != tt.want || next != nil {
				t.Errorf("got %d events (nextToken %v), want %d: %v", len(events), next, tt.want, events)
			}
		})
	}

	// --max-items stops early and hands out a token that resumes where it stopped.
	first, token := auditEvents(t, "--until", until, "--max-items", "3")
	if len(first) != 3 || token == nil {
		t.Fatalf("--max-items 3 = %v, nextToken %v", first, token)
	}
	rest, token := auditEvents(t, "--until", until, "--starting-token", token.(string))
	if len(rest) != 1 || token != nil || rest[0]["requestId"] != all[3]["requestId"] {
		t.Errorf("resumed listing = %v (nextToken %v), want the last event %v", rest, token, all[3])
	}

	// The table: one row per event under TIME, PRINCIPAL, ACTION, RESOURCE, OUTCOME, CODE.
	out, _, err := execute(t, "audit", "list", "--since", "1h", "--action", "sparkplane:CreateUser")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if err != nil || len(lines) != 3 || strings.Join(strings.Fields(lines[0]), " ") != "TIME PRINCIPAL ACTION RESOURCE OUTCOME CODE" {
		t.Fatalf("audit list table:\n%s\n%v", out, err)
	}
	if f := strings.Fields(lines[2]); len(f) != 6 || f[1] != srv.Principal || f[2] != "sparkplane:CreateUser" || f[3] != arn || f[4] != "failed" || f[5] != "EntityAlreadyExistsException" {
		t.Errorf("failed CreateUser row = %q", lines[2])
	}
	if f := strings.Fields(lines[1]); len(f) != 6 || f[4] != "allowed" || f[5] != "-" {
		t.Errorf("allowed CreateUser row = %q", lines[1])
	}
	out, _, err = execute(t, "audit", "list", "--max-items", "1")
	if err != nil || !strings.Contains(out, "More results: repeat with --starting-token ") {
		t.Errorf("audit list --max-items 1 table:\n%s\n%v", out, err)
	}
}

func TestAuditBadInput(t *testing.T) {
	isolateEnv(t)
	closed := "http://127.0.0.1:1"
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"bad since", []string{"--since", "last week"}, `--since: "last week" is not a duration`},
		{"bad until", []string{"--until", "2026-02-30"}, `--until: "2026-02-30" is not a duration`},
		{"zero since", []string{"--since", "0h"}, `--since: "0h": the duration must be positive`},
		{"action without service", []string{"--action", "CreateUser"}, `--action: "CreateUser" must be a full action name with its service prefix`},
		{"negative max-items", []string{"--max-items", "-1"}, "--max-items: must be a positive number, got -1"},
		{"argument", []string{"extra"}, `unknown command "extra"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := execute(t, append(append([]string{"audit", "list"}, tt.args...), "--endpoint-url", closed)...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}
