package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sparkplane/sparkplane/internal/access"
	"github.com/sparkplane/sparkplane/internal/audit"
	"github.com/sparkplane/sparkplane/internal/cost"
	"github.com/sparkplane/sparkplane/internal/jobs"
	"github.com/sparkplane/sparkplane/internal/store"
	"github.com/sparkplane/sparkplane/internal/store/storetest"
)

// opsAt is a time of the store migrate tests, with nanoseconds the columns cannot keep (the
// JSON documents keep them).
func opsAt(minute int) time.Time { return time.Date(2026, 3, 4, 5, minute, 6, 123456789, time.UTC) }

// populated is what populate stored that a test checks behaviour with after the copy.
type populated struct {
	sealer                    *access.Sealer
	secret                    string
	tokenRun, tokenRunHash    string
	vcWithRuns, runWithToken  string
	virtualClusters, allRuns  []string
	lastAuditSeq              int64
	sessions                  []string
	nodeKeys                  []cost.NodeKey
	podJobRuns, podClusters   []string
	resources                 []jobs.ResourceRef
	users                     []string
	bulkRuns                  int
	queuedVirtualClusterLimit int
}

// populate fills every table of a store through its own API: virtual clusters (one with
// settings, one terminated), job runs in every state (queued, admitted, running with an
// attempt, finished, tagged, with a clientToken, a document holding \u0000 and non-ASCII
// text) and a bulk of imported ones, job templates (one deleted), a security configuration,
// users with sealed access keys and policies, audit events (the newest seq pruned, so
// SQLite's sequence is past the highest stored), pod usage and node facts.
func populate(t *testing.T, s store.Backend) populated {
	t.Helper()
	ctx := t.Context()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	p := populated{secret: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", queuedVirtualClusterLimit: 1}
	var err error
	p.sealer, err = access.NewSealer([]byte("0123456789abcdef0123456789abcdef"))
	must(err)

	vc := func(id, ns string, minute int) jobs.VirtualCluster {
		return jobs.VirtualCluster{ID: id, Name: "vc-" + id, ARN: "arn:aws:emr-containers:us-east-1:000000000000:/virtualclusters/" + id,
			State: jobs.VirtualClusterRunning, CreatedAt: opsAt(minute), Tags: map[string]string{"team": "data"},
			ContainerProvider: jobs.ContainerProvider{Type: "EKS", ID: "cluster1", Info: &jobs.ContainerInfo{EKSInfo: &jobs.EKSInfo{Namespace: ns}}}}
	}
	_, err = s.CreateVirtualCluster(ctx, vc("vcq", "queue", 1), jobs.Idempotency{Token: "vc-token", Hash: "vc-hash"})
	must(err)
	_, err = s.CreateVirtualCluster(ctx, vc("vcold", "old", 2), jobs.Idempotency{})
	must(err)
	_, err = s.SetVirtualClusterState(ctx, "vcold", jobs.VirtualClusterTerminated)
	must(err)
	_, err = s.CreateVirtualCluster(ctx, vc("vcbulk", "bulk", 3), jobs.Idempotency{})
	must(err)
	must(s.PutVirtualClusterSettings(ctx, "vcq", &jobs.VirtualClusterSettings{MaxConcurrentJobRuns: p.queuedVirtualClusterLimit,
		PodPolicy: jobs.PodPolicy{AllowedHostPaths: []string{"/mnt/data"}, AllowedCapabilities: []string{"NET_BIND_SERVICE"}}}))
	p.virtualClusters = []string{"vcq", "vcold", "vcbulk"}
	p.vcWithRuns = "vcq"

	run := func(id string, state jobs.JobRunState, minute int) jobs.JobRun {
		return storetest.JobRun(id, "vcq", "job-"+id, state, opsAt(minute))
	}
	// Queued: admitted1 takes the one slot, queued1 and queued2 wait behind it.
	for i, id := range []string{"admitted1", "queued1", "queued2"} {
		_, err = s.CreateJobRun(ctx, run(id, jobs.StatePending, 10+i), jobs.Idempotency{})
		must(err)
	}
	for _, id := range []string{"admitted1", "queued1"} {
		_, _, err = s.AdmitJobRun(ctx, id, p.queuedVirtualClusterLimit, opsAt(20))
		must(err)
	}
	// A run started with a clientToken, then submitted and running: its attempt is typed.
	p.runWithToken, p.tokenRun, p.tokenRunHash = "running1", "start-token-1", "hash-1"
	_, err = s.CreateJobRun(ctx, run(p.runWithToken, jobs.StatePending, 13), jobs.Idempotency{Token: p.tokenRun, Hash: p.tokenRunHash})
	must(err)
	_, err = s.UpdateJobRun(ctx, p.runWithToken, 1, func(r *jobs.JobRun) error {
		r.State = jobs.StateRunning
		r.Attempt = jobs.Attempt{Number: 1, Namespace: "queue", DriverPod: "spark-running1-driver", SubmittedAt: opsAt(14), RunningAt: opsAt(15),
			SparkVersion: "3.5.1", AdmittedAt: opsAt(14)}
		return nil
	})
	must(err)
	// Finished runs; one of them with text no single-byte encoding holds and a NUL in its
	// arguments (json keeps "\u0000", which jsonb would refuse).
	for i, state := range []jobs.JobRunState{jobs.StateCompleted, jobs.StateFailed, jobs.StateCancelled} {
		id := strings.ToLower(string(state)) + "1"
		r := run(id, jobs.StatePending, 16+i)
		if state == jobs.StateFailed {
			r.Name = "étl — ✓ \"quoted\" 日本"
			r.JobDriver.SparkSubmitJobDriver.EntryPointArguments = []string{"a\x00b", "ü"}
		}
		_, err = s.CreateJobRun(ctx, r, jobs.Idempotency{})
		must(err)
		_, err = s.UpdateJobRun(ctx, id, -1, func(r *jobs.JobRun) error {
			finished := opsAt(30 + i)
			r.State, r.FinishedAt, r.StateDetails = state, &finished, "ended "+string(state)
			r.Attempt = jobs.Attempt{Number: 2, CleanedUp: true, SubmittedAt: opsAt(25)}
			return nil
		})
		must(err)
	}
	p.allRuns = []string{"admitted1", "queued1", "queued2", "running1", "completed1", "failed1", "cancelled1"}

	// Imported runs, enough for several COPY batches.
	p.bulkRuns = 1200
	bulk := make([]jobs.JobRun, p.bulkRuns)
	for i := range bulk {
		states := []jobs.JobRunState{jobs.StateCompleted, jobs.StateFailed, jobs.StateRunning, jobs.StatePending}
		bulk[i] = storetest.JobRun(fmt.Sprintf("bulk%05d", i), "vcbulk", fmt.Sprintf("nightly-%d", i%7), states[i%len(states)], opsAt(40).Add(time.Duration(i)*time.Second))
	}
	must(s.ImportJobRuns(ctx, bulk))

	// Templates and a security configuration; one template deleted.
	tmpl := func(id string, minute int) jobs.JobTemplate {
		return jobs.JobTemplate{ID: id, Name: "t-" + id, ARN: "arn:aws:emr-containers:us-east-1:000000000000:/jobtemplates/" + id, CreatedAt: opsAt(minute),
			JobTemplateData: jobs.JobTemplateData{ExecutionRoleArn: "arn:aws:iam::000000000000:role/spark", ReleaseLabel: "emr-6.5.0-latest",
				JobDriver: jobs.JobDriver{SparkSubmitJobDriver: &jobs.SparkSubmitJobDriver{EntryPoint: "local:///${Script}"}}}}
	}
	_, err = s.CreateJobTemplate(ctx, tmpl("tmpl1", 5), jobs.Idempotency{Token: "tmpl-token", Hash: "tmpl-hash"})
	must(err)
	_, err = s.CreateJobTemplate(ctx, tmpl("tmpl2", 6), jobs.Idempotency{})
	must(err)
	_, err = s.CreateJobTemplate(ctx, tmpl("tmplgone", 7), jobs.Idempotency{})
	must(err)
	must(s.DeleteJobTemplate(ctx, "tmplgone"))
	_, err = s.CreateSecurityConfiguration(ctx, jobs.SecurityConfiguration{ID: "sc1", Name: "tls", ARN: "arn:aws:emr-containers:us-east-1:000000000000:/securityconfigurations/sc1",
		CreatedAt: opsAt(8), SecurityConfigurationData: jobs.SecurityConfigurationData{AuthorizationConfiguration: map[string]any{"encryptionConfiguration": map[string]any{"inTransit": true}}}},
		jobs.Idempotency{Token: "sc-token", Hash: "sc-hash"})
	must(err)

	// Tags on every kind of resource.
	p.resources = []jobs.ResourceRef{{Kind: jobs.KindVirtualCluster, ID: "vcq"}, {Kind: jobs.KindJobRun, ID: "completed1"},
		{Kind: jobs.KindJobTemplate, ID: "tmpl1"}, {Kind: jobs.KindSecurityConfiguration, ID: "sc1"}}
	for _, ref := range p.resources {
		_, err = s.UpdateTags(ctx, ref, map[string]string{"cost-center": "42", "owner": "ops"}, nil, nil)
		must(err)
	}

	// Users, sealed keys, policies.
	p.users = []string{"alice", "bob"}
	for i, name := range p.users {
		must(s.CreateUser(ctx, access.User{UserName: name, UserID: "AIDA" + strings.ToUpper(name), Arn: "arn:aws:iam::000000000000:user/" + name, Path: "/", CreateDate: opsAt(i)}))
	}
	for i, id := range []string{"AKIAALICE1", "AKIAALICE2"} {
		sealed, err := p.sealer.Seal(id, p.secret)
		must(err)
		k := access.StoredKey{AccessKeyID: id, UserName: "alice", Status: access.StatusActive, Sealed: sealed, CreateDate: opsAt(50 + i)}
		if i == 1 {
			k.Status = access.StatusInactive
		}
		must(s.CreateAccessKey(ctx, k, 2))
	}
	for i, name := range []string{"submit", "read"} {
		must(s.PutUserPolicy(ctx, access.UserPolicy{UserName: "alice", PolicyName: name, UpdateDate: opsAt(52 + i),
			PolicyDocument: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"emr-containers:*","Resource":"*"}]}`}, 10))
	}

	// Audit events: the last one appended is the oldest, and pruning it leaves SQLite's
	// sequence one past the highest stored seq.
	var events []audit.Event
	for i := range 6 {
		events = append(events, audit.Event{Time: opsAt(55 + i), RequestID: fmt.Sprintf("req-%d", i), Principal: "alice", AccessKeyID: "AKIAALICE1",
			Source: "10.0.0.1", Action: "StartJobRun", Resource: "arn:x", Outcome: audit.Allowed, Status: 200})
	}
	events[5].Time, events[5].Outcome, events[5].ErrorCode, events[5].Status = opsAt(0).Add(-time.Hour), "Denied", "AccessDeniedException", 403
	must(s.AppendAudit(ctx, events))
	pruned, err := s.PruneAudit(ctx, opsAt(0))
	must(err)
	if pruned != 1 {
		t.Fatalf("pruned %d audit events, want 1", pruned)
	}
	p.lastAuditSeq = 6

	// Console sessions: a signed-in browser and a sign-in link not yet used.
	for i, kind := range []string{access.SessionKindSession, access.SessionKindLink} {
		id := fmt.Sprintf("%064x", i+1)
		must(s.PutSession(ctx, access.Session{ID: id, Kind: kind, AccessKeyID: "AKIAALICE1", CreatedAt: opsAt(56 + i),
			ExpiresAt: time.Date(2100, 1, 1, 0, 0, 0, 123456789, time.UTC)}))
		p.sessions = append(p.sessions, id)
	}

	// Cost: two nodes (one deleted) and pods of two runs (one still on its node).
	nodes := []cost.NodeFacts{
		{Cluster: "cluster1", Name: "node-a", UID: "uid-a", InstanceType: "m5.xlarge", CapacityType: cost.OnDemand, Zone: "us-east-1a", Region: "us-east-1", PriceLabel: "m5", CPUMillis: 4000, MemoryBytes: 16 << 30, Created: opsAt(1)},
		{Cluster: "cluster1", Name: "node-b", UID: "uid-b", InstanceType: "r5.large", CapacityType: cost.Spot, Zone: "us-east-1b", Region: "us-east-1", CPUMillis: 2000, MemoryBytes: 16 << 30, Created: opsAt(1), Deleted: opsAt(45)},
	}
	for _, n := range nodes {
		must(s.SaveNodeFacts(ctx, n))
		p.nodeKeys = append(p.nodeKeys, n.Key())
	}
	pods := []cost.PodUsage{
		{UID: "pod-1", Cluster: "cluster1", Namespace: "queue", Name: "spark-running1-driver", JobRunID: "running1", VirtualClusterID: "vcq", Role: cost.RoleDriver, NodeName: "node-a", CPUMillis: 1000, MemoryBytes: 2 << 30, Start: opsAt(15)},
		{UID: "pod-2", Cluster: "cluster1", Namespace: "queue", Name: "exec-1", JobRunID: "completed1", VirtualClusterID: "vcq", Role: cost.RoleExecutor, NodeName: "node-b", CPUMillis: 2000, MemoryBytes: 4 << 30, CPUUsageMillis: 1500, MemoryUsageBytes: 3 << 30, Start: opsAt(20), End: opsAt(30)},
		{UID: "pod-3", Cluster: "cluster1", Namespace: "queue", Name: "exec-2", JobRunID: "completed1", Role: cost.RoleExecutor, NodeName: "node-b", CPUMillis: 2000, MemoryBytes: 4 << 30, Start: opsAt(21), End: opsAt(30)},
	}
	for _, pod := range pods {
		_, _, err = s.SavePodUsage(ctx, pod)
		must(err)
	}
	p.podJobRuns, p.podClusters = []string{"running1", "completed1"}, []string{"cluster1"}
	return p
}

// contents is everything a store answers about what populate stored, read through its API.
type contents struct {
	VirtualClusters []jobs.VirtualCluster
	Settings        map[string]*jobs.VirtualClusterSettings
	JobRunLists     map[string][]jobs.JobRun
	JobRuns         map[string]jobs.JobRun
	Active          []string
	Queued          map[string][]string
	Templates       []jobs.JobTemplate
	SecurityConfigs []jobs.SecurityConfiguration
	Tags            map[jobs.ResourceRef]map[string]string
	Users           []access.User
	Keys            map[string][]access.StoredKey
	Policies        map[string][]access.UserPolicy
	Audit           []audit.Event
	Sessions        []access.Session
	Pods            map[string][]cost.PodUsage
	OpenPods        map[string][]cost.PodUsage
	Nodes           map[cost.NodeKey]cost.NodeFacts
	OpenNodes       map[string][]cost.NodeFacts
}

func read(t *testing.T, s store.Backend, p populated) contents {
	t.Helper()
	ctx := t.Context()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	all := jobs.Page{Limit: 100000}
	c := contents{Settings: map[string]*jobs.VirtualClusterSettings{}, JobRunLists: map[string][]jobs.JobRun{}, JobRuns: map[string]jobs.JobRun{},
		Queued: map[string][]string{}, Tags: map[jobs.ResourceRef]map[string]string{}, Keys: map[string][]access.StoredKey{},
		Policies: map[string][]access.UserPolicy{}, Pods: map[string][]cost.PodUsage{}, OpenPods: map[string][]cost.PodUsage{}, OpenNodes: map[string][]cost.NodeFacts{}}
	var err error
	c.VirtualClusters, _, err = s.ListVirtualClusters(ctx, jobs.VirtualClusterFilter{TimeFilter: jobs.TimeFilter{Page: all}})
	must(err)
	for _, id := range p.virtualClusters {
		vc, err := s.GetVirtualCluster(ctx, id)
		must(err)
		c.Settings[id] = vc.Settings
		c.JobRunLists[id], _, err = s.ListJobRuns(ctx, jobs.JobRunFilter{VirtualClusterID: id, TimeFilter: jobs.TimeFilter{Page: all}})
		must(err)
		queued, err := s.ListQueuedJobRunIDs(ctx, id, 100000)
		must(err)
		if len(queued) > 0 { // PostgreSQL answers an empty list, SQLite nil
			c.Queued[id] = queued
		}
	}
	for _, id := range p.allRuns {
		c.JobRuns[id], err = s.GetJobRun(ctx, id)
		must(err)
	}
	c.Active, err = s.ListActiveJobRunIDs(ctx, 0)
	must(err)
	c.Templates, _, err = s.ListJobTemplates(ctx, jobs.TimeFilter{Page: all})
	must(err)
	c.SecurityConfigs, _, err = s.ListSecurityConfigurations(ctx, jobs.TimeFilter{Page: all})
	must(err)
	for _, ref := range p.resources {
		c.Tags[ref], err = s.UpdateTags(ctx, ref, nil, nil, nil)
		must(err)
	}
	c.Users, err = s.ListUsers(ctx)
	must(err)
	for _, u := range p.users {
		c.Keys[u], err = s.ListAccessKeys(ctx, u)
		must(err)
		c.Policies[u], err = s.ListUserPolicies(ctx, u)
		must(err)
	}
	c.Audit, _, err = s.ListAudit(ctx, audit.Query{Limit: 100000})
	must(err)
	for _, id := range p.sessions {
		sess, err := s.GetSession(ctx, id)
		must(err)
		c.Sessions = append(c.Sessions, sess)
	}
	for _, id := range p.podJobRuns {
		c.Pods[id], err = s.PodUsageByJobRun(ctx, id)
		must(err)
	}
	c.Nodes, err = s.NodeFacts(ctx, p.nodeKeys)
	must(err)
	for _, cl := range p.podClusters {
		c.OpenPods[cl], err = s.OpenPodUsage(ctx, cl)
		must(err)
		c.OpenNodes[cl], err = s.OpenNodes(ctx, cl)
		must(err)
	}
	return c
}

// compareContents fails t for every field of the two reads that differs.
func compareContents(t *testing.T, want, got contents) {
	t.Helper()
	wv, gv := reflect.ValueOf(want), reflect.ValueOf(got)
	for i := range wv.NumField() {
		if w, g := wv.Field(i).Interface(), gv.Field(i).Interface(); !reflect.DeepEqual(w, g) {
			wj, _ := json.Marshal(w)
			gj, _ := json.Marshal(g)
			t.Errorf("%s differs after the copy:\nSQLite:     %s\nPostgreSQL: %s", wv.Type().Field(i).Name, wj, gj)
		}
	}
}

// migrate copies the SQLite database at path into the PostgreSQL database url.
func migrate(ctx context.Context, path, url string, opts store.CopyOptions) (store.CopyReport, error) {
	src, err := store.OpenSQLiteSource(ctx, path)
	if err != nil {
		return store.CopyReport{}, err
	}
	defer src.Close()
	dst, err := store.ConnectPostgresTarget(ctx, url)
	if err != nil {
		return store.CopyReport{}, err
	}
	defer dst.Close()
	return store.CopyToPostgres(ctx, src, dst, opts)
}

// TestCopyToPostgres moves a SQLite store holding data in every table to PostgreSQL, then
// checks that the PostgreSQL store answers every read as SQLite did, and goes on where
// SQLite left off: clientTokens, the queue, the audit sequence, sealed keys.
func TestCopyToPostgres(t *testing.T) {
	needPostgres(t)
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "sparkplane.db")
	lite, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	p := populate(t, lite)
	want := read(t, lite, p)
	if err := lite.Close(); err != nil {
		t.Fatal(err)
	}

	url := pg.Database(t)
	var progress []string
	report, err := migrate(ctx, path, url, store.CopyOptions{BatchSize: 500, Progress: func(table string, n int64) {
		progress = append(progress, fmt.Sprintf("%s:%d", table, n))
	}})
	if err != nil {
		t.Fatal(err)
	}
	if !report.Committed || report.AnalyzeErr != nil {
		t.Fatalf("committed %v, analyze %v", report.Committed, report.AnalyzeErr)
	}
	if len(report.Tables) != 11 {
		t.Errorf("copied %d tables, want all 11", len(report.Tables))
	}
	for _, r := range report.Tables {
		if r.SourceRows == 0 || r.SourceRows != r.TargetRows || r.SourceSum != r.TargetSum || r.Problem != "" {
			t.Errorf("%s: %+v", r.Table, r)
		}
	}
	if got, want := strings.Join(progress, " "), "job_runs:500 job_runs:1000 job_runs:1207"; !strings.Contains(got, want) {
		t.Errorf("progress %s, want batches %s", got, want)
	}
	if report.NextAuditSeq != p.lastAuditSeq+1 {
		t.Errorf("next audit seq %d, want %d", report.NextAuditSeq, p.lastAuditSeq+1)
	}

	pgs, err := store.OpenPostgres(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer pgs.Close()
	compareContents(t, want, read(t, pgs, p))

	// The same StartJobRun retried on PostgreSQL finds the run SQLite stored; a different
	// request with the token is refused.
	again := storetest.JobRun("other-id", p.vcWithRuns, "job-running1", jobs.StatePending, opsAt(13))
	got, err := pgs.CreateJobRun(ctx, again, jobs.Idempotency{Token: p.tokenRun, Hash: p.tokenRunHash})
	if err != nil || got.ID != p.runWithToken || got.Version != want.JobRuns[p.runWithToken].Version {
		t.Errorf("clientToken retried after the copy: %s v%d %v, want %s v%d", got.ID, got.Version, err, p.runWithToken, want.JobRuns[p.runWithToken].Version)
	}
	if _, err := pgs.CreateJobRun(ctx, again, jobs.Idempotency{Token: p.tokenRun, Hash: "another"}); !errors.Is(err, jobs.ErrIdempotencyMismatch) {
		t.Errorf("clientToken with another request after the copy: %v", err)
	}
	// The queue goes on: queued1 is first in line, and its slot is still taken.
	_, adm, err := pgs.AdmitJobRun(ctx, "queued1", p.queuedVirtualClusterLimit, opsAt(59))
	if err != nil || adm.Admitted || adm.Holding != 2 || adm.Ahead != 0 {
		// admitted1 and running1 hold a slot each.
		t.Errorf("admission after the copy: %+v %v", adm, err)
	}
	// New audit events continue past every seq SQLite gave out, the pruned one's included.
	if err := pgs.AppendAudit(ctx, []audit.Event{{Time: opsAt(59), RequestID: "after", Action: "ListJobRuns", Outcome: audit.Allowed, Status: 200}}); err != nil {
		t.Fatal(err)
	}
	events, _, err := pgs.ListAudit(ctx, audit.Query{Limit: 100})
	if err != nil || events[len(events)-1].RequestID != "after" || events[len(events)-1].Seq != report.NextAuditSeq {
		t.Errorf("audit after the copy: %+v %v, want seq %d", events[len(events)-1], err, report.NextAuditSeq)
	}
	// Sealed secrets open with the same secrets key.
	key, err := pgs.GetAccessKey(ctx, "AKIAALICE1")
	if err != nil {
		t.Fatal(err)
	}
	if secret, err := p.sealer.Open(key.AccessKeyID, key.Sealed); err != nil || secret != p.secret {
		t.Errorf("sealed secret after the copy: %q %v", secret, err)
	}

	// A second copy into the database, now holding data, is refused and changes nothing.
	_, err = migrate(ctx, path, url, store.CopyOptions{})
	var full *store.NotEmptyError
	if !errors.As(err, &full) {
		t.Fatalf("second copy: %v", err)
	}
	for _, w := range []string{"already holds sparkplane data", "virtual_clusters: 3 rows", "job_runs: 1207 rows", "audit_events: 6 rows", "store migrate copies into an empty database only"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("second copy: %q does not say %q", err, w)
		}
	}
}

// TestCopyRefusesLockedSource: a SQLite database a server (here, a store open in this
// process) holds is not copied: it could change while it is read.
func TestCopyRefusesLockedSource(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sparkplane.db")
	open(t, path)
	_, err := store.OpenSQLiteSource(t.Context(), path)
	want := fmt.Sprintf("SQLite database %s is in use by sparkplane process %d (a server, or another store command): stop it first", path, osPID())
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("copy of a database in use: %v\nwant: %s", err, want)
	}
	// And a server cannot start on a database being copied.
	closed := filepath.Join(t.TempDir(), "closed.db")
	s, err := store.Open(t.Context(), closed)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	src, err := store.OpenSQLiteSource(t.Context(), closed)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var inUse *store.InUseError
	if _, err := store.Open(t.Context(), closed); !errors.As(err, &inUse) {
		t.Fatalf("a server started during the copy: %v", err)
	}
}

// TestCopySourceErrors: what is not a sparkplane SQLite database of this version is refused
// before anything is copied, saying what it is.
func TestCopySourceErrors(t *testing.T) {
	dir := t.TempDir()
	old := filepath.Join(dir, "old.db")
	s := open(t, old)
	s.Close()
	execSQLite(t, old, `DELETE FROM schema_migrations WHERE version = 5`)
	newer := filepath.Join(dir, "newer.db")
	s = open(t, newer)
	s.Close()
	execSQLite(t, newer, `INSERT INTO schema_migrations VALUES (999, '0999_future.sql', 0)`)
	other := filepath.Join(dir, "other.db")
	execSQLite(t, other, `CREATE TABLE t (x)`)
	garbage := filepath.Join(dir, "garbage.db")
	writeFile(t, garbage, strings.Repeat("not a database ", 100))
	tests := []struct{ path, want string }{
		{filepath.Join(dir, "missing.db"), "no SQLite database at " + filepath.Join(dir, "missing.db")},
		{dir, dir + " is a directory, not a SQLite database file"},
		{old, "is at schema version 4, this sparkplane's is 5: start this sparkplane's server on it once"},
		{newer, "schema is at version 999, newer than this sparkplane knows"},
		{other, other + " is not a sparkplane SQLite database"},
		{garbage, garbage + " is not a sparkplane SQLite database"},
	}
	for _, tc := range tests {
		src, err := store.OpenSQLiteSource(t.Context(), tc.path)
		if err == nil {
			src.Close()
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.path, err, tc.want)
		}
	}
}

// TestCopyDetectsMismatch: a row changed in PostgreSQL between the copy and its verification
// is found, named by table, key and column; the copy is rolled back, and the database takes
// a clean copy afterwards.
func TestCopyDetectsMismatch(t *testing.T) {
	needPostgres(t)
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "sparkplane.db")
	lite := open(t, path)
	for i := range 3 {
		if _, err := lite.CreateJobRun(ctx, storetest.JobRun(fmt.Sprintf("r%d", i), "v1", "n", jobs.StatePending, opsAt(i)), jobs.Idempotency{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := lite.AppendAudit(ctx, []audit.Event{{Time: opsAt(1), RequestID: "a", Status: 200}, {Time: opsAt(2), RequestID: "b", Status: 200}}); err != nil {
		t.Fatal(err)
	}
	lite.Close()
	url := pg.Database(t)

	tests := []struct {
		name, tamper string
		want         []string
	}{
		{"changed document", `UPDATE job_runs SET doc = '{"id":"r1"}' WHERE id = 'r1'`,
			[]string{"verification failed, nothing was committed: job_runs: row id=\"r1\": column doc differs"}},
		{"changed version", `UPDATE job_runs SET version = 7 WHERE id = 'r2'`, []string{`job_runs: row id="r2": column version differs`}},
		{"deleted row", `DELETE FROM job_runs WHERE id = 'r0'`, []string{`job_runs: 3 rows in SQLite, 2 in PostgreSQL; row id="r0" is missing from PostgreSQL`}},
		{"extra row", `INSERT INTO audit_events (seq, at, request_id, principal, access_key_id, source, action, resource, outcome, error_code, status) VALUES (9, now(), 'x', '', '', '', '', '', '', '', 200)`,
			[]string{`audit_events: 2 rows in SQLite, 3 in PostgreSQL; row seq=9 is in PostgreSQL only`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			opts := store.CopyBeforeVerify(store.CopyOptions{}, func(ctx context.Context, tx pgx.Tx) error {
				_, err := tx.Exec(ctx, tc.tamper)
				return err
			})
			report, err := migrate(ctx, path, url, opts)
			var mismatch *store.MismatchError
			if !errors.As(err, &mismatch) || report.Committed {
				t.Fatalf("tampered copy: committed %v, %v", report.Committed, err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%q does not say %q", err, w)
				}
			}
			if len(mismatch.Tables) != 1 {
				t.Errorf("tables that differ: %+v", mismatch.Tables)
			}
			for _, r := range report.Tables {
				if (r.Problem != "") != (r.Table == mismatch.Tables[0].Table) || (r.Problem != "") != (r.SourceSum != r.TargetSum) {
					t.Errorf("%s: %+v", r.Table, r)
				}
			}
		})
	}
	// Nothing was committed: the database takes the copy.
	report, err := migrate(ctx, path, url, store.CopyOptions{})
	if err != nil || !report.Committed {
		t.Fatalf("copy after the failed ones: %v", err)
	}
}
