package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/emrcontainers"
	"github.com/aws/aws-sdk-go-v2/service/emrcontainers/types"
	"github.com/spf13/cobra"
)

// execute runs the command tree as the binary does (cobra prints "Error: ..." to stderr) and
// returns stdout, stderr and the error.
func execute(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	root := &cobra.Command{Use: "sparkplane", SilenceUsage: true}
	root.AddCommand(Commands(Options{})...)
	var out, errb bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errb)
	root.SetArgs(args)
	err := root.ExecuteContext(context.Background())
	return out.String(), errb.String(), err
}

// isolateEnv clears the settings the client reads from the environment so that tests do not
// depend on the machine's AWS configuration.
func isolateEnv(t *testing.T) {
	t.Helper()
	for k, v := range map[string]string{
		EndpointEnv: "", "AWS_REGION": "", "AWS_DEFAULT_REGION": "", "AWS_PROFILE": "",
		"AWS_ACCESS_KEY_ID": "AKIDTEST", "AWS_SECRET_ACCESS_KEY": "secret", "AWS_SESSION_TOKEN": "",
		"AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
		"AWS_EC2_METADATA_DISABLED": "true", "AWS_ENDPOINT_URL": "",
	} {
		t.Setenv(k, v)
	}
}

// TestBadInput checks that every bad flag is refused with a message naming the flag before
// any request is sent: the endpoint is a closed port, so a request would fail differently.
func TestBadInput(t *testing.T) {
	isolateEnv(t)
	closed := "http://127.0.0.1:1"
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no endpoint", []string{"virtual-clusters", "list"}, "no endpoint: set --endpoint-url or the SPARKPLANE_ENDPOINT environment variable"},
		{"bad endpoint", []string{"virtual-clusters", "list", "--endpoint-url", "localhost:8080"}, `--endpoint-url: "localhost:8080" is not an http:// or https:// URL`},
		{"bad output", []string{"jobs", "list", "--virtual-cluster-id", "v", "-o", "xml", "--endpoint-url", closed}, `--output: "xml" is not one of table, json, yaml`},
		{"describe without id", []string{"virtual-clusters", "describe", "--endpoint-url", closed}, `required flag(s) "id" not set`},
		{"job describe without vc", []string{"jobs", "describe", "--id", "j", "--endpoint-url", closed}, `required flag(s) "virtual-cluster-id" not set`},
		{"start without vc", []string{"jobs", "start", "--name", "x", "--endpoint-url", closed}, `required flag(s) "virtual-cluster-id" not set`},
		{"bad job driver", []string{"jobs", "start", "--virtual-cluster-id", "v", "--job-driver", `{"sparkSubmitJobDriver":{"entryPoint":1}}`, "--endpoint-url", closed}, "--job-driver: sparkSubmitJobDriver.entryPoint: want a string, got a number"},
		{"bad overrides", []string{"jobs", "start", "--virtual-cluster-id", "v", "--configuration-overrides", `{"applicationConfiguration":{}}`, "--endpoint-url", closed}, "--configuration-overrides: applicationConfiguration: want a list, got an object"},
		{"bad retry", []string{"jobs", "start", "--virtual-cluster-id", "v", "--retry-policy-configuration", `{"maxAttempts":"x"}`, "--endpoint-url", closed}, "--retry-policy-configuration: maxAttempts: want a whole number, got a string"},
		{"bad tags", []string{"jobs", "start", "--virtual-cluster-id", "v", "--tags", "novalue", "--endpoint-url", closed}, `--tags: "novalue" is not key=value`},
		{"bad template params", []string{"jobs", "start", "--virtual-cluster-id", "v", "--job-template-parameters", `{"a":[1]}`, "--endpoint-url", closed}, "--job-template-parameters: a: want a string, got a list"},
		{"missing file", []string{"jobs", "start", "--virtual-cluster-id", "v", "--job-driver", "file://does-not-exist.json", "--endpoint-url", closed}, "--job-driver: read file://does-not-exist.json"},
		{"bad cli input json", []string{"jobs", "start", "--cli-input-json", `{"virtualClusterID":"v"}`, "--endpoint-url", closed}, `--cli-input-json: unknown field "virtualClusterID"`},
		{"bad states", []string{"jobs", "list", "--virtual-cluster-id", "v", "--states", "PENDING,DONE", "--endpoint-url", closed}, `--states: "DONE" is not one of PENDING, SUBMITTED, RUNNING, FAILED, CANCELLED, CANCEL_PENDING, COMPLETED`},
		{"bad created-after", []string{"jobs", "list", "--virtual-cluster-id", "v", "--created-after", "last week", "--endpoint-url", closed}, `--created-after: "last week" is not a timestamp`},
		{"bad created-before", []string{"virtual-clusters", "list", "--created-before", "2024-02-30", "--endpoint-url", closed}, `--created-before: "2024-02-30" is not a timestamp`},
		{"bad vc states", []string{"virtual-clusters", "list", "--states", "PENDING", "--endpoint-url", closed}, `--states: "PENDING" is not one of RUNNING, TERMINATING, TERMINATED, ARRESTED`},
		{"bad provider type", []string{"virtual-clusters", "list", "--container-provider-type", "GKE", "--endpoint-url", closed}, `--container-provider-type: "GKE" is not one of EKS`},
		{"negative max-results", []string{"jobs", "list", "--virtual-cluster-id", "v", "--max-results", "-1", "--endpoint-url", closed}, "--max-results: must be a positive number, got -1"},
		{"negative max-items", []string{"job-templates", "list", "--max-items", "-5", "--endpoint-url", closed}, "--max-items: must be a positive number, got -5"},
		{"max-results not a number", []string{"jobs", "list", "--virtual-cluster-id", "v", "--max-results", "ten", "--endpoint-url", closed}, `invalid argument "ten" for "--max-results"`},
		{"bad container provider", []string{"virtual-clusters", "create", "--name", "n", "--container-provider", `{"id":"c","type":"EKS","info":{"eksinfo":{}}}`, "--endpoint-url", closed}, `--container-provider: info: unknown field "eksinfo" (valid fields: eksInfo)`},
		{"create without provider", []string{"virtual-clusters", "create", "--name", "n", "--endpoint-url", closed}, `required flag(s) "container-provider" not set`},
		{"bad template data", []string{"job-templates", "create", "--name", "n", "--job-template-data", `{"releaseLabel":7}`, "--endpoint-url", closed}, "--job-template-data: releaseLabel: want a string, got a number"},
		{"bad security data", []string{"security-configurations", "create", "--name", "n", "--security-configuration-data", `[]`, "--endpoint-url", closed}, "--security-configuration-data: want an object, got a list"},
		{"negative timeout", []string{"jobs", "wait", "--id", "j", "--virtual-cluster-id", "v", "--timeout", "-1s", "--endpoint-url", closed}, "--timeout: must not be negative, got -1s"},
		{"zero poll", []string{"jobs", "wait", "--id", "j", "--virtual-cluster-id", "v", "--poll-interval", "0s", "--endpoint-url", closed}, "--poll-interval: must be positive, got 0s"},
		{"tags add without tags", []string{"tags", "add", "--resource-arn", "arn:x", "--endpoint-url", closed}, `required flag(s) "tags" not set`},
		{"empty tag key", []string{"tags", "remove", "--resource-arn", "arn:x", "--tag-keys", "a,,b", "--endpoint-url", closed}, "--tag-keys: empty key"},
		{"positional arg", []string{"jobs", "list", "--virtual-cluster-id", "v", "extra", "--endpoint-url", closed}, `unknown command "extra"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := execute(t, tt.args...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want it to contain %q", err, tt.want)
			}
			if ExitCode(err) != ExitError {
				t.Errorf("ExitCode = %d, want %d", ExitCode(err), ExitError)
			}
		})
	}
}

// TestUnreachableEndpoint checks the message when the endpoint does not answer.
func TestUnreachableEndpoint(t *testing.T) {
	isolateEnv(t)
	t.Setenv(EndpointEnv, "http://127.0.0.1:1")
	_, stderr, err := execute(t, "virtual-clusters", "describe", "--id", "x")
	if err == nil || !strings.Contains(err.Error(), "cannot reach the endpoint") {
		t.Fatalf("error = %v, want cannot reach the endpoint", err)
	}
	if !strings.HasPrefix(stderr, "Error: cannot reach the endpoint") {
		t.Errorf("stderr = %q", stderr)
	}
}

func TestExitCode(t *testing.T) {
	tests := []struct {
		err  error
		want int
	}{
		{nil, 0},
		{errors.New("x"), ExitError},
		{&CodeError{Code: ExitTimeout, Err: errors.New("t")}, ExitTimeout},
		{fmt.Errorf("wrapped: %w", &CodeError{Code: ExitJobFailed, Err: errors.New("f")}), ExitJobFailed},
	}
	for _, tt := range tests {
		if got := ExitCode(tt.err); got != tt.want {
			t.Errorf("ExitCode(%v) = %d, want %d", tt.err, got, tt.want)
		}
	}
}

// TestExitHook checks that Options.Exit receives the special codes only.
func TestExitHook(t *testing.T) {
	var codes []int
	a := &app{opts: Options{Exit: func(c int) { codes = append(codes, c) }}}
	a.g.output = "table"
	c := &cobra.Command{Use: "g"}
	for _, e := range []error{nil, errors.New("plain"), &CodeError{Code: ExitTimeout, Err: errors.New("late")}} {
		c.AddCommand(&cobra.Command{Use: fmt.Sprint(len(c.Commands())), RunE: func(*cobra.Command, []string) error { return e }})
	}
	a.wrapExit(c)
	var errb bytes.Buffer
	for _, sub := range c.Commands() {
		sub.SetErr(&errb)
		_ = sub.RunE(sub, nil)
	}
	if len(codes) != 1 || codes[0] != ExitTimeout {
		t.Errorf("exit codes = %v, want [%d]", codes, ExitTimeout)
	}
	if errb.String() != "Error: late\n" {
		t.Errorf("stderr = %q", errb.String())
	}
}

func TestPrintList(t *testing.T) {
	created := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	jobs := []types.JobRun{
		{Id: aws.String("00000001"), Name: aws.String("pi"), State: types.JobRunStateRunning, ReleaseLabel: aws.String("emr-7.2.0"), CreatedAt: &created},
		{Id: aws.String("00000002"), Name: aws.String("a much longer name"), State: types.JobRunStateCompleted, CreatedAt: &created, FinishedAt: &created},
	}
	cols := []column[types.JobRun]{
		{"ID", func(j types.JobRun) string { return aws.ToString(j.Id) }},
		{"NAME", func(j types.JobRun) string { return aws.ToString(j.Name) }},
		{"STATE", func(j types.JobRun) string { return string(j.State) }},
		{"RELEASE", func(j types.JobRun) string { return aws.ToString(j.ReleaseLabel) }},
		{"FINISHED", func(j types.JobRun) string { return timeCell(j.FinishedAt) }},
	}
	out := &emrcontainers.ListJobRunsOutput{JobRuns: jobs, NextToken: aws.String("tok")}
	tests := []struct {
		output, want string
	}{
		{"table", "" +
			"ID         NAME                 STATE       RELEASE     FINISHED\n" +
			"00000001   pi                   RUNNING     emr-7.2.0   -\n" +
			"00000002   a much longer name   COMPLETED   -           2024-05-01T12:00:00Z\n" +
			"\nMore results: repeat with --starting-token tok\n"},
		{"json", `{
    "jobRuns": [
        {
            "id": "00000001",
            "name": "pi",
            "createdAt": "2024-05-01T12:00:00Z",
            "releaseLabel": "emr-7.2.0",
            "state": "RUNNING"
        },
        {
            "id": "00000002",
            "name": "a much longer name",
            "createdAt": "2024-05-01T12:00:00Z",
            "finishedAt": "2024-05-01T12:00:00Z",
            "state": "COMPLETED"
        }
    ],
    "nextToken": "tok"
}
`},
		{"yaml", `jobRuns:
- createdAt: "2024-05-01T12:00:00Z"
  id: "00000001"
  name: pi
  releaseLabel: emr-7.2.0
  state: RUNNING
- createdAt: "2024-05-01T12:00:00Z"
  finishedAt: "2024-05-01T12:00:00Z"
  id: "00000002"
  name: a much longer name
  state: COMPLETED
nextToken: tok
`},
	}
	for _, tt := range tests {
		t.Run(tt.output, func(t *testing.T) {
			a := &app{g: globals{output: tt.output}}
			var b bytes.Buffer
			if err := printList(a, &b, out, jobs, cols, out.NextToken); err != nil {
				t.Fatal(err)
			}
			if b.String() != tt.want {
				t.Errorf("got:\n%s\nwant:\n%s", b.String(), tt.want)
			}
		})
	}
}

func TestPrintDetail(t *testing.T) {
	out := &emrcontainers.DescribeVirtualClusterOutput{VirtualCluster: &types.VirtualCluster{
		Id: aws.String("vc1"), Name: aws.String("analytics"), State: types.VirtualClusterStateRunning,
		ContainerProvider: &types.ContainerProvider{Id: aws.String("local"), Type: types.ContainerProviderTypeEks,
			Info: &types.ContainerInfoMemberEksInfo{Value: types.EksInfo{Namespace: aws.String("spark")}}},
		Tags: map[string]string{"team": "data"},
	}}
	var b bytes.Buffer
	a := &app{g: globals{output: "table"}}
	if err := a.printDetail(&b, out); err != nil {
		t.Fatal(err)
	}
	want := "" +
		"id                                    vc1\n" +
		"name                                  analytics\n" +
		"containerProvider.id                  local\n" +
		"containerProvider.type                EKS\n" +
		"containerProvider.info.eksInfo.namespace   spark\n" +
		"state                                 RUNNING\n" +
		"tags.team                             data\n"
	if got := b.String(); normalizeSpaces(got) != normalizeSpaces(want) {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
	// Columns are aligned: every value starts at the same offset.
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	off := strings.Index(lines[0], "vc1")
	for _, l := range lines {
		if len(l) <= off || l[off-1] != ' ' || l[off] == ' ' {
			t.Errorf("line %q: value not at column %d", l, off)
		}
	}
}

func normalizeSpaces(s string) string {
	var lines []string
	for _, l := range strings.Split(s, "\n") {
		lines = append(lines, strings.Join(strings.Fields(l), " "))
	}
	return strings.Join(lines, "\n")
}

func TestCollect(t *testing.T) {
	items := []int{1, 2, 3, 4, 5, 6, 7}
	// pages serves items from a slice the way a server does: the token is the next offset.
	pages := func(calls *[]int32) fetchPage[int] {
		return func(_ context.Context, token *string, size *int32) ([]int, *string, error) {
			start := 0
			if token != nil {
				fmt.Sscan(*token, &start)
			}
			n := int32(3)
			if size != nil {
				n = *size
			}
			*calls = append(*calls, n)
			end := min(start+int(n), len(items))
			var next *string
			if end < len(items) {
				next = aws.String(fmt.Sprint(end))
			}
			return items[start:end], next, nil
		}
	}
	tests := []struct {
		name      string
		p         paging
		want      []int
		wantNext  string
		wantSizes []int32
	}{
		{"all pages", paging{}, items, "", []int32{3, 3, 3}},
		{"page size", paging{maxResults: 5}, items, "", []int32{5, 5}},
		{"max items", paging{maxItems: 4}, []int{1, 2, 3, 4}, "4", []int32{4}},
		{"max items small pages", paging{maxItems: 5, maxResults: 2}, []int{1, 2, 3, 4, 5}, "5", []int32{2, 2, 1}},
		{"starting token", paging{startingToken: "5"}, []int{6, 7}, "", []int32{3}},
		{"max items beyond end", paging{maxItems: 50}, items, "", []int32{50}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var sizes []int32
			got, next, err := collect(context.Background(), tt.p, pages(&sizes))
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) || aws.ToString(next) != tt.wantNext || fmt.Sprint(sizes) != fmt.Sprint(tt.wantSizes) {
				t.Errorf("got %v next %q sizes %v; want %v next %q sizes %v", got, aws.ToString(next), sizes, tt.want, tt.wantNext, tt.wantSizes)
			}
		})
	}
	t.Run("repeated token", func(t *testing.T) {
		_, _, err := collect(context.Background(), paging{}, func(context.Context, *string, *int32) ([]int, *string, error) {
			return []int{1}, aws.String("same"), nil
		})
		if err == nil || !strings.Contains(err.Error(), "same nextToken twice") {
			t.Errorf("error = %v", err)
		}
	})
}
