package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sparkplane/sparkplane/internal/dev/apitest"
	"github.com/sparkplane/sparkplane/internal/jobs"
)

// startServer runs the real sparkplane API in-process and points the client at it through
// the environment, the way a user's shell would.
func startServer(t *testing.T, opts ...apitest.Option) *apitest.Server {
	t.Helper()
	isolateEnv(t)
	srv := apitest.Start(t, opts...)
	t.Setenv(EndpointEnv, srv.URL)
	t.Setenv("AWS_ACCESS_KEY_ID", srv.AccessKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", srv.SecretAccessKey)
	t.Setenv("AWS_DEFAULT_REGION", srv.Region)
	return srv
}

// runJSON runs a command with -o json and decodes its output.
func runJSON(t *testing.T, args ...string) map[string]any {
	t.Helper()
	out, stderr, err := execute(t, append(args, "-o", "json")...)
	if err != nil {
		t.Fatalf("sparkplane %s: %v (stderr %q)", strings.Join(args, " "), err, stderr)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatalf("sparkplane %s: output %q: %v", strings.Join(args, " "), out, err)
	}
	return m
}

func createVC(t *testing.T) string {
	t.Helper()
	vc := runJSON(t, "virtual-clusters", "create", "--name", "cli-e2e",
		"--container-provider", `{"id":"`+apitest.ContainerProvider+`","type":"EKS","info":{"eksInfo":{"namespace":"spark-jobs"}}}`,
		"--tags", "team=data")
	return vc["id"].(string)
}

func startJob(t *testing.T, vc, name string, extra ...string) string {
	t.Helper()
	args := append([]string{"jobs", "start", "--virtual-cluster-id", vc, "--name", name,
		"--execution-role-arn", apitest.RoleArn, "--release-label", apitest.ReleaseLabel,
		"--job-driver", `{"sparkSubmitJobDriver":{"entryPoint":"local:///opt/spark/examples/src/main/python/pi.py","entryPointArguments":["100"]}}`}, extra...)
	return runJSON(t, args...)["id"].(string)
}

func listIDs(t *testing.T, args ...string) ([]string, any) {
	t.Helper()
	m := runJSON(t, args...)
	var ids []string
	for _, k := range []string{"jobRuns", "virtualClusters", "templates"} {
		if l, ok := m[k].([]any); ok {
			for _, e := range l {
				ids = append(ids, e.(map[string]any)["id"].(string))
			}
		}
	}
	return ids, m["nextToken"]
}

func TestEndToEndJobs(t *testing.T) {
	srv := startServer(t)
	vc := createVC(t)

	// Describe as a table shows the nested provider as dotted paths.
	out, _, err := execute(t, "virtual-clusters", "describe", "--id", vc, "--endpoint-url", srv.URL)
	if err != nil || !strings.Contains(out, "containerProvider.info.eksInfo.namespace") || !strings.Contains(out, "RUNNING") {
		t.Fatalf("describe table = %q, %v", out, err)
	}
	if ids, _ := listIDs(t, "virtual-clusters", "list", "--states", "RUNNING"); len(ids) != 1 || ids[0] != vc {
		t.Fatalf("virtual-clusters list = %v", ids)
	}

	// A job driver from a file, retry policy and tags in shorthand.
	driverFile := filepath.Join(t.TempDir(), "driver.json")
	if err := os.WriteFile(driverFile, []byte(`{"sparkSubmitJobDriver":{"entryPoint":"s3://code/etl.py","sparkSubmitParameters":"--conf spark.executor.instances=2"}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	etl := runJSON(t, "jobs", "start", "--virtual-cluster-id", vc, "--name", "etl",
		"--execution-role-arn", apitest.RoleArn, "--release-label", apitest.ReleaseLabel,
		"--job-driver", "file://"+driverFile, "--retry-policy-configuration", "maxAttempts=2",
		"--tags", "env=dev,team=data", "--client-token", "tok-etl",
		"--configuration-overrides", `{"applicationConfiguration":[{"classification":"spark-defaults","properties":{"spark.executor.memory":"2G"}}]}`)["id"].(string)
	again := runJSON(t, "jobs", "start", "--virtual-cluster-id", vc, "--name", "etl",
		"--execution-role-arn", apitest.RoleArn, "--release-label", apitest.ReleaseLabel,
		"--job-driver", "file://"+driverFile, "--retry-policy-configuration", "maxAttempts=2",
		"--tags", "env=dev,team=data", "--client-token", "tok-etl",
		"--configuration-overrides", `{"applicationConfiguration":[{"classification":"spark-defaults","properties":{"spark.executor.memory":"2G"}}]}`)["id"].(string)
	if again != etl {
		t.Fatalf("same --client-token started %s and %s", etl, again)
	}
	pi1 := startJob(t, vc, "pi")
	pi2 := startJob(t, vc, "pi")

	jr := runJSON(t, "jobs", "describe", "--virtual-cluster-id", vc, "--id", etl)["jobRun"].(map[string]any)
	driver := jr["jobDriver"].(map[string]any)["sparkSubmitJobDriver"].(map[string]any)
	if jr["state"] != "PENDING" || driver["entryPoint"] != "s3://code/etl.py" ||
		jr["retryPolicyConfiguration"].(map[string]any)["maxAttempts"] != float64(2) ||
		jr["tags"].(map[string]any)["env"] != "dev" || jr["createdBy"] != srv.Principal {
		t.Fatalf("describe = %v", jr)
	}
	if _, err := time.Parse(time.RFC3339, jr["createdAt"].(string)); err != nil {
		t.Errorf("createdAt %v is not ISO-8601: %v", jr["createdAt"], err)
	}

	tests := []struct {
		name string
		args []string
		want int
	}{
		{"all", nil, 3},
		{"by name", []string{"--name", "pi"}, 2},
		{"by states", []string{"--states", "PENDING", "--states", "RUNNING"}, 3},
		{"no running", []string{"--states", "RUNNING,COMPLETED"}, 0},
		{"created after future", []string{"--created-after", time.Now().Add(time.Hour).UTC().Format(time.RFC3339)}, 0},
		{"created before future", []string{"--created-before", "4102444800"}, 3},
		{"one per page, all pages followed", []string{"--max-results", "1"}, 3},
	}
	for _, tt := range tests {
		t.Run("list "+tt.name, func(t *testing.T) {
			ids, next := listIDs(t, append([]string{"jobs", "list", "--virtual-cluster-id", vc}, tt.args...)...)
			if len(ids) != tt.want || next != nil {
				t.Errorf("got %v (nextToken %v), want %d ids and no nextToken", ids, next, tt.want)
			}
		})
	}

	// --max-items stops early and hands out a token that resumes where it stopped.
	first, next := listIDs(t, "jobs", "list", "--virtual-cluster-id", vc, "--max-items", "2")
	if len(first) != 2 || next == nil {
		t.Fatalf("--max-items 2 = %v, nextToken %v", first, next)
	}
	rest, next2 := listIDs(t, "jobs", "list", "--virtual-cluster-id", vc, "--starting-token", next.(string))
	seen := map[string]bool{}
	for _, id := range append(first, rest...) {
		seen[id] = true
	}
	if len(rest) != 1 || next2 != nil || !seen[etl] || !seen[pi1] || !seen[pi2] {
		t.Fatalf("resumed listing = %v + %v", first, rest)
	}

	// Table output: a header and one aligned row per job run.
	out, _, err = execute(t, "jobs", "list", "--virtual-cluster-id", vc)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if err != nil || len(lines) != 4 || !strings.HasPrefix(lines[0], "ID ") || strings.Index(lines[0], "STATE") != strings.Index(lines[1], "PENDING") {
		t.Fatalf("jobs list table:\n%s\n%v", out, err)
	}

	// YAML output.
	out, _, err = execute(t, "jobs", "describe", "--virtual-cluster-id", vc, "--id", pi1, "-o", "yaml")
	if err != nil || !strings.Contains(out, "jobRun:\n") || !strings.Contains(out, "  state: PENDING\n") {
		t.Fatalf("yaml = %q, %v", out, err)
	}

	runJSON(t, "jobs", "cancel", "--virtual-cluster-id", vc, "--id", pi2)
	if got := runJSON(t, "jobs", "describe", "--virtual-cluster-id", vc, "--id", pi2)["jobRun"].(map[string]any)["state"]; got != "CANCEL_PENDING" {
		t.Fatalf("after cancel: %v", got)
	}
}

func TestEndToEndErrors(t *testing.T) {
	srv := startServer(t)
	vc := createVC(t)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown release label", []string{"jobs", "start", "--virtual-cluster-id", vc, "--name", "bad",
			"--execution-role-arn", apitest.RoleArn, "--release-label", "emr-0.0.1-nope",
			"--job-driver", `{"sparkSubmitJobDriver":{"entryPoint":"local:///pi.py"}}`}, "ValidationException: "},
		{"missing job driver (SDK check)", []string{"jobs", "start", "--virtual-cluster-id", vc, "--name", "bad",
			"--execution-role-arn", apitest.RoleArn, "--release-label", apitest.ReleaseLabel,
			"--job-driver", `{"sparkSubmitJobDriver":{}}`}, "invalid parameters: missing required field, StartJobRunInput.JobDriver.SparkSubmitJobDriver.EntryPoint"},
		{"unknown job run", []string{"jobs", "describe", "--virtual-cluster-id", vc, "--id", "0000000000000000000"}, "ResourceNotFoundException: "},
		{"unknown virtual cluster", []string{"virtual-clusters", "describe", "--id", "nope"}, "ResourceNotFoundException: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, stderr, err := execute(t, tt.args...)
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) || !strings.HasPrefix(stderr, "Error: "+tt.want) {
				t.Fatalf("error = %v, stderr %q; want %q", err, stderr, tt.want)
			}
			if ExitCode(err) != ExitError {
				t.Errorf("exit code %d", ExitCode(err))
			}
		})
	}
	// A rejected start changes nothing.
	if ids, _ := listIDs(t, "jobs", "list", "--virtual-cluster-id", vc); len(ids) != 0 {
		t.Errorf("job runs after rejected starts: %v", ids)
	}
	// A wrong secret is refused by the server's SigV4 check.
	t.Setenv("AWS_SECRET_ACCESS_KEY", "wrong")
	_, _, err := execute(t, "virtual-clusters", "list", "--endpoint-url", srv.URL)
	if err == nil || !strings.Contains(err.Error(), "Exception") {
		t.Fatalf("wrong secret: %v", err)
	}
}

func TestEndToEndWait(t *testing.T) {
	srv := startServer(t)
	vc := createVC(t)

	t.Run("timeout on PENDING", func(t *testing.T) {
		id := startJob(t, vc, "stays-pending")
		out, _, err := execute(t, "jobs", "wait", "--virtual-cluster-id", vc, "--id", id, "--timeout", "600ms", "--poll-interval", "100ms")
		if ExitCode(err) != ExitTimeout || !strings.Contains(err.Error(), "last state was PENDING") {
			t.Fatalf("wait = %v (exit %d), want timeout", err, ExitCode(err))
		}
		if lines := strings.Split(strings.TrimSpace(out), "\n"); len(lines) != 1 || !strings.Contains(lines[0], "PENDING") {
			t.Errorf("progress = %q, want one PENDING line", out)
		}
	})

	// The domain service plays the controller's part, moving the job through its states while
	// the client waits.
	move := func(t *testing.T, id string, steps ...jobs.JobRun) {
		go func() {
			for _, s := range steps {
				time.Sleep(150 * time.Millisecond)
				_, err := srv.App.Service.UpdateJobRun(context.Background(), id, -1, func(r *jobs.JobRun) error {
					r.State, r.StateDetails, r.FailureReason = s.State, s.StateDetails, s.FailureReason
					return nil
				})
				if err != nil {
					t.Errorf("move %s to %s: %v", id, s.State, err)
					return
				}
			}
		}()
	}
	tests := []struct {
		name      string
		cancel    bool
		steps     []jobs.JobRun
		wantCode  int
		wantErr   string
		wantLines []string
	}{
		{"completed", false, []jobs.JobRun{{State: jobs.StateSubmitted}, {State: jobs.StateRunning}, {State: jobs.StateCompleted}},
			0, "", []string{"PENDING", "SUBMITTED", "RUNNING", "COMPLETED"}},
		{"failed", false, []jobs.JobRun{{State: jobs.StateSubmitted}, {State: jobs.StateRunning, StateDetails: "driver started"}, {State: jobs.StateFailed, FailureReason: jobs.FailureUserError, StateDetails: "driver exited with code 1"}},
			ExitJobFailed, "FAILED (USER_ERROR): driver exited with code 1", []string{"PENDING", "SUBMITTED", "RUNNING", "FAILED"}},
		{"cancelled", true, []jobs.JobRun{{State: jobs.StateCancelled, StateDetails: "cancelled by user"}},
			ExitJobCancelled, "CANCELLED: cancelled by user", []string{"CANCEL_PENDING", "CANCELLED"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := startJob(t, vc, tt.name)
			if tt.cancel {
				runJSON(t, "jobs", "cancel", "--virtual-cluster-id", vc, "--id", id)
			}
			move(t, id, tt.steps...)
			out, _, err := execute(t, "jobs", "wait", "--virtual-cluster-id", vc, "--id", id, "--timeout", "10s", "--poll-interval", "50ms")
			if ExitCode(err) != tt.wantCode || (tt.wantErr != "" && !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("wait = %v (exit %d), want exit %d %q", err, ExitCode(err), tt.wantCode, tt.wantErr)
			}
			lines := strings.Split(strings.TrimSpace(out), "\n")
			var states []string
			for _, l := range lines {
				if f := strings.Fields(l); len(f) >= 2 {
					if _, err := time.Parse(time.RFC3339, f[0]); err != nil {
						t.Errorf("line %q does not start with a timestamp", l)
					}
					states = append(states, f[1])
				}
			}
			// Polling may miss a short-lived state, but never reorders them and always ends on the last.
			if len(states) == 0 || states[len(states)-1] != tt.wantLines[len(tt.wantLines)-1] || !isSubsequence(states, tt.wantLines) {
				t.Errorf("progress lines %q, want states in order %v", out, tt.wantLines)
			}
		})
	}

	t.Run("start --wait with json output", func(t *testing.T) {
		out, stderr, err := execute(t, "jobs", "start", "--virtual-cluster-id", vc, "--name", "w",
			"--execution-role-arn", apitest.RoleArn, "--release-label", apitest.ReleaseLabel,
			"--job-driver", `{"sparkSubmitJobDriver":{"entryPoint":"local:///pi.py"}}`,
			"--wait", "--timeout", "300ms", "--poll-interval", "100ms", "-o", "json")
		if ExitCode(err) != ExitTimeout {
			t.Fatalf("start --wait = %v", err)
		}
		var m map[string]any
		if jerr := json.Unmarshal([]byte(out), &m); jerr != nil || m["jobRun"].(map[string]any)["state"] != "PENDING" {
			t.Errorf("stdout %q is not the final DescribeJobRun JSON: %v", out, jerr)
		}
		if !strings.Contains(stderr, "PENDING") {
			t.Errorf("progress should go to stderr with -o json, got %q", stderr)
		}
	})
}

func isSubsequence(got, want []string) bool {
	i := 0
	for _, w := range want {
		if i < len(got) && got[i] == w {
			i++
		}
	}
	return i == len(got)
}

func TestEndToEndTemplatesAndTags(t *testing.T) {
	srv := startServer(t)
	vc := createVC(t)
	tmplFile := filepath.Join(t.TempDir(), "template.json")
	tmpl := `{"executionRoleArn":"` + apitest.RoleArn + `","releaseLabel":"` + apitest.ReleaseLabel + `",
	  "jobDriver":{"sparkSubmitJobDriver":{"entryPoint":"${Script}"}},
	  "parameterConfiguration":{"Script":{"type":"STRING"}}}`
	if err := os.WriteFile(tmplFile, []byte(tmpl), 0o600); err != nil {
		t.Fatal(err)
	}
	tid := runJSON(t, "job-templates", "create", "--name", "daily", "--job-template-data", "file://"+tmplFile)["id"].(string)
	if ids, _ := listIDs(t, "job-templates", "list"); len(ids) != 1 || ids[0] != tid {
		t.Fatalf("job-templates list = %v", ids)
	}
	d := runJSON(t, "job-templates", "describe", "--id", tid)["jobTemplate"].(map[string]any)
	if d["jobTemplateData"].(map[string]any)["parameterConfiguration"].(map[string]any)["Script"].(map[string]any)["type"] != "STRING" {
		t.Fatalf("describe template = %v", d)
	}
	id := runJSON(t, "jobs", "start", "--virtual-cluster-id", vc, "--name", "templated", "--job-template-id", tid,
		"--job-template-parameters", "Script=s3://code/job.py")["id"].(string)
	jr := runJSON(t, "jobs", "describe", "--virtual-cluster-id", vc, "--id", id)["jobRun"].(map[string]any)
	if ep := jr["jobDriver"].(map[string]any)["sparkSubmitJobDriver"].(map[string]any)["entryPoint"]; ep != "s3://code/job.py" {
		t.Fatalf("templated entryPoint = %v", ep)
	}

	arn := runJSON(t, "virtual-clusters", "describe", "--id", vc)["virtualCluster"].(map[string]any)["arn"].(string)
	if _, _, err := execute(t, "tags", "add", "--resource-arn", arn, "--tags", `{"env":"dev","owner":"ana"}`); err != nil {
		t.Fatal(err)
	}
	if _, _, err := execute(t, "tags", "remove", "--resource-arn", arn, "--tag-keys", "env"); err != nil {
		t.Fatal(err)
	}
	tags := runJSON(t, "tags", "list", "--resource-arn", arn)["tags"].(map[string]any)
	if tags["owner"] != "ana" || tags["team"] != "data" || tags["env"] != nil {
		t.Fatalf("tags = %v", tags)
	}
	out, _, err := execute(t, "tags", "list", "--resource-arn", arn)
	if err != nil || !strings.Contains(out, "KEY") || !strings.Contains(out, "owner") {
		t.Fatalf("tags table = %q, %v", out, err)
	}

	runJSON(t, "job-templates", "delete", "--id", tid)
	runJSON(t, "virtual-clusters", "delete", "--id", vc)
	// Its job run is still being cancelled (no controller runs here), so the cluster stays
	// TERMINATING until the controller settles it.
	if st := runJSON(t, "virtual-clusters", "describe", "--id", vc)["virtualCluster"].(map[string]any)["state"]; st != "TERMINATING" {
		t.Fatalf("after delete: %v", st)
	}
	_ = srv
}

// TestListFiltersAndConsoleLink lists job runs by creator and tag (sparkplane's extension
// filters, sent beside ListJobRuns' own) and asks for a console sign-in link.
func TestListFiltersAndConsoleLink(t *testing.T) {
	srv := startServer(t)
	vc := createVC(t)
	a := startJob(t, vc, "alpha", "--tags", "team=data,env=prod")
	b := startJob(t, vc, "beta", "--tags", "team=ml")
	for _, c := range []struct {
		args []string
		want []string
	}{
		{[]string{"--tag", "team=data"}, []string{a}},
		{[]string{"--tag", "team=ml", "--states", "PENDING"}, []string{b}},
		{[]string{"--tag", "team=data", "--tag", "env=dev"}, nil},
		{[]string{"--created-by", srv.Principal}, []string{b, a}},
		{[]string{"--created-by", "arn:aws:iam::000000000000:user/nobody"}, nil},
	} {
		ids, _ := listIDs(t, append([]string{"jobs", "list", "--virtual-cluster-id", vc}, c.args...)...)
		if strings.Join(ids, ",") != strings.Join(c.want, ",") {
			t.Errorf("jobs list %v: %v, want %v", c.args, ids, c.want)
		}
	}
	if _, _, err := execute(t, "jobs", "list", "--virtual-cluster-id", vc, "--tag", "novalue"); err == nil || !strings.Contains(err.Error(), "--tag: must be key=value") {
		t.Errorf("--tag novalue: %v", err)
	}
	link := runJSON(t, "console")
	if link["consoleUrl"] != srv.URL+"/console/" || !strings.HasPrefix(link["signInUrl"].(string), srv.URL+"/console/signin/link?token=") {
		t.Fatalf("console: %v", link)
	}
	out, _, err := execute(t, "console")
	if err != nil || !strings.Contains(out, "Sign-in link: "+srv.URL+"/console/signin/link?token=") || !strings.Contains(out, "works once") {
		t.Fatalf("console: %q %v", out, err)
	}
}
