package api_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/emrcontainers"

	"github.com/sparkplane/sparkplane/internal/dev/apitest"
)

// TestConsoleExtensions covers the routes and members the web console reads, as any signed
// client reaches them: job run counts, the resolved Spark configuration, the run's timeline,
// and the creator and tag filters of ListJobRuns.
func TestConsoleExtensions(t *testing.T) {
	srv := apitest.Start(t)
	c := srv.Client()
	ctx := t.Context()
	vc := createVC(t, c, "console", "ns-console")
	in := startInput(vc, "first")
	in.JobDriver.SparkSubmitJobDriver.SparkSubmitParameters = aws.String("--conf spark.executor.instances=2 --conf spark.hadoop.fs.s3a.secret.key=hunter2 --conf spark.driver.memory=3G")
	first, err := c.StartJobRun(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	second, err := c.StartJobRun(ctx, startInput(vc, "second"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CancelJobRun(ctx, &emrcontainers.CancelJobRunInput{VirtualClusterId: aws.String(vc), Id: second.Id}); err != nil {
		t.Fatal(err)
	}
	get := func(path string, v any) {
		t.Helper()
		code, _, body := srv.Get(t, path, true)
		if code != http.StatusOK {
			t.Fatalf("GET %s: HTTP %d %s", path, code, body)
		}
		if err := json.Unmarshal(body, v); err != nil {
			t.Fatal(err)
		}
	}

	var counts struct{ Counts map[string]int }
	get("/virtualclusters/"+vc+"/jobruncounts", &counts)
	if len(counts.Counts) != 2 || counts.Counts["PENDING"] != 1 || counts.Counts["CANCEL_PENDING"] != 1 {
		t.Fatalf("counts: %v", counts.Counts)
	}

	// The configuration as resolved: sparkSubmitParameters over spark-defaults, secrets
	// redacted as Spark redacts them.
	var conf struct{ SparkConf map[string]string }
	get("/virtualclusters/"+vc+"/jobruns/"+*first.Id+"/sparkconf", &conf)
	if conf.SparkConf["spark.driver.memory"] != "3G" || conf.SparkConf["spark.executor.instances"] != "2" ||
		conf.SparkConf["spark.hadoop.fs.s3a.secret.key"] != "*********(redacted)" {
		t.Fatalf("sparkconf: %v", conf.SparkConf)
	}

	var described struct {
		JobRun struct {
			Timeline []struct{ Step string } `json:"sparkplaneTimeline"`
			Attempt  struct{ Number int }    `json:"sparkplaneAttempt"`
			Tags     map[string]string       `json:"tags"`
		} `json:"jobRun"`
	}
	get("/virtualclusters/"+vc+"/jobruns/"+*first.Id, &described)
	if len(described.JobRun.Timeline) != 1 || described.JobRun.Timeline[0].Step != "PENDING: accepted" || described.JobRun.Attempt.Number != 1 {
		t.Fatalf("timeline: %+v", described.JobRun)
	}

	// Filters: the runs of a creator, and by tag (startInput tags owner=alice).
	other := srv.User(t, "bo", map[string]string{"all": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`})
	in = startInput(vc, "third")
	in.Tags = map[string]string{"owner": "bo", "cost.center:x": `a "quoted" value`}
	third, err := srv.ClientAs(other).StartJobRun(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	for q, want := range map[string]string{
		"createdBy=" + other.Arn:                     *third.Id,
		"tag=owner%3Dalice":                          *second.Id + "," + *first.Id,
		"tag=cost.center%3Ax%3Da+%22quoted%22+value": *third.Id,
		"tag=owner%3Dbo&states=PENDING":              *third.Id,
		"tag=owner%3Dnobody":                         "",
	} {
		var list struct{ JobRuns []struct{ ID string } }
		get("/virtualclusters/"+vc+"/jobruns?"+q, &list)
		var ids []string
		for _, r := range list.JobRuns {
			ids = append(ids, r.ID)
		}
		if strings.Join(ids, ",") != want {
			t.Errorf("?%s: %v, want %s", q, ids, want)
		}
	}
	for q, want := range map[string]string{
		"tag=novalue":                            "tag: must be key=value",
		"tag=a%3D1&tag=a%3D2":                    "tag: names the key",
		"createdBy=" + strings.Repeat("x", 2049): "createdBy",
	} {
		code, errType, body := srv.Get(t, "/virtualclusters/"+vc+"/jobruns?"+q, true)
		if code != http.StatusBadRequest || errType != "ValidationException" || !strings.Contains(string(body), want) {
			t.Errorf("?%.40s: HTTP %d %s %s", q, code, errType, body)
		}
	}

	// Counts are what ListJobRuns tells, and authorized as it.
	viewer := srv.User(t, "viewer", map[string]string{"v": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"emr-containers:DescribeVirtualCluster","Resource":"*"}]}`})
	code, errType, body := srv.Do(t, viewer, http.MethodGet, "/virtualclusters/"+vc+"/jobruncounts", nil)
	if code != http.StatusForbidden || errType != "AccessDeniedException" || !strings.Contains(string(body), "emr-containers:ListJobRuns") {
		t.Fatalf("counts without ListJobRuns: HTTP %d %s %s", code, errType, body)
	}
}
