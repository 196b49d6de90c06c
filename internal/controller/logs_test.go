package controller_test

import (
	"bufio"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/emrcontainers"
	emrtypes "github.com/aws/aws-sdk-go-v2/service/emrcontainers/types"

	"github.com/sparkplane/sparkplane/internal/dev/testenv"
)

// TestFollowJobRunLogs follows a running job's driver log through the signed logs route:
// lines arrive while the run runs, the stream ends by itself when the run does with a line
// saying how, an executor's log is there while the executor is, and the route refuses bad
// parameters and callers without sparkplane:GetJobRunLogs.
func TestFollowJobRunLogs(t *testing.T) {
	ensureNode(t)
	env := testenv.Get(t)
	dir := t.TempDir()
	s := startServer(t, dir, env.Kubeconfig)
	vc := s.virtualCluster(t, "joblogs")
	id := s.start(t, vc, 0, "spark.sparkplane.sandbox.duration=5s")
	s.waitState(t, vc, id, emrtypes.JobRunStateRunning, 2*time.Minute)
	path := "/virtualclusters/" + vc + "/jobruns/" + id + "/logs"

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	resp := s.Open(ctx, t, s.Admin(), path+"?follow=true")
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		log, _ := os.ReadFile(filepath.Join(dir, "server.log"))
		t.Fatalf("follow: HTTP %d %s %s\n%s", resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("X-Amzn-Errortype"), log)
	}
	type line struct {
		text string
		at   time.Time
	}
	var lines []line
	checkedExecutor := false
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		lines = append(lines, line{sc.Text(), time.Now()})
		if !checkedExecutor && strings.Contains(sc.Text(), "Registered executor") {
			// The executor exists now (Spark deletes it at the end): read its log, and
			// every executor's, while it does.
			checkedExecutor = true
			s.wantLog(t, path+"?executor=1", "CoarseGrainedExecutorBackend: Successfully registered with driver")
			s.wantLog(t, path+"?executor=all", "[exec-1] ")
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("follow stream: %v after %d lines", err, len(lines))
	}
	if !checkedExecutor {
		t.Errorf("the driver's log never said it registered an executor")
	}
	out, err := s.client.DescribeJobRun(context.Background(), &emrcontainers.DescribeJobRunInput{VirtualClusterId: aws.String(vc), Id: aws.String(id)})
	if err != nil {
		t.Fatal(err)
	}
	run := out.JobRun
	if run.State != emrtypes.JobRunStateCompleted || run.FinishedAt == nil {
		t.Fatalf("the follow ended with the run %s", run.State)
	}
	var all []string
	for _, l := range lines {
		all = append(all, l.text)
	}
	for _, want := range []string{"INFO SparkContext: Running Spark version", "INFO SparkContext: Submitted application: "} {
		found := false
		for _, l := range lines {
			if strings.Contains(l.text, want) {
				found = true
				if !l.at.Before(*run.FinishedAt) {
					t.Errorf("%q arrived at %s, after the run ended at %s: not live", want, l.at, run.FinishedAt)
				}
				break
			}
		}
		if !found {
			t.Errorf("followed driver log lacks %q:\n%s", want, strings.Join(all, "\n"))
		}
	}
	last := all[len(all)-1]
	if want := "--- job run " + id + " ended COMPLETED"; !strings.HasPrefix(last, want) {
		t.Errorf("last line %q, want it to start with %q", last, want)
	}

	// A finished run's log is read once, without the follow's last line.
	status, code, body := s.Do(t, s.Admin(), http.MethodGet, path+"?tail=3", nil)
	if got := strings.Count(string(body), "\n"); status != http.StatusOK || got != 3 {
		t.Errorf("tail=3 of the finished run: HTTP %d %s, %d lines:\n%s", status, code, got, body)
	}

	for _, tc := range []struct{ query, param string }{
		{"tail=-1", "tail"}, {"since=yesterday", "since"}, {"executor=driver", "executor"}, {"follow=maybe", "follow"},
	} {
		status, code, body := s.Do(t, s.Admin(), http.MethodGet, path+"?"+tc.query, nil)
		if status != http.StatusBadRequest || code != "ValidationException" || !strings.Contains(string(body), tc.param) {
			t.Errorf("%s: HTTP %d %s %s, want a ValidationException naming %s", tc.query, status, code, body, tc.param)
		}
	}

	viewer := s.User(t, "logs-viewer", map[string]string{"describe": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"emr-containers:Describe*","Resource":"*"}]}`})
	status, code, body = s.Do(t, viewer, http.MethodGet, path, nil)
	if status != http.StatusForbidden || code != "AccessDeniedException" || !strings.Contains(string(body), "sparkplane:GetJobRunLogs") {
		t.Errorf("logs without sparkplane:GetJobRunLogs: HTTP %d %s %s, want AccessDenied naming the action", status, code, body)
	}
}

// wantLog reads a log (no follow) until it holds want, for up to 10 s: the pod writes its
// lines as it goes.
func (s *server) wantLog(t *testing.T, path, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		status, code, body := s.Do(t, s.Admin(), http.MethodGet, path, nil)
		if status == http.StatusOK && strings.Contains(string(body), want) {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("%s: HTTP %d %s, without %q:\n%s", path, status, code, want, body)
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
}
