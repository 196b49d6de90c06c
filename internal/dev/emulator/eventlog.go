package emulator

import (
	"bytes"
	"context"
	"fmt"
	"hash/fnv"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	corev1 "k8s.io/api/core/v1"

	"github.com/sparkplane/sparkplane/internal/dev/sparksim"
	"github.com/sparkplane/sparkplane/internal/wellknown"
)

// reImageVersion finds a Spark version in an image tag (apache/spark:3.5.1-scala...).
var reImageVersion = regexp.MustCompile(`:v?(\d+\.\d+\.\d+)`)

// writeEventLog writes, as a Spark driver with spark.eventLog.enabled does, the event log of
// the application the emulator simulated for driver: its executors (the pods it really
// created, added when they started), its run from the driver's start until now, and its
// outcome. It goes to spark.eventLog.dir/<spark.app.id> in S3. A driver whose event log
// cannot be written goes on, as Spark's does.
func (e *Emulator) writeEventLog(ctx context.Context, driver *corev1.Pod, conf Conf, executors map[string]*corev1.Pod, code int, message string) error {
	if on, _ := conf.boolean("spark.eventLog.enabled", false); !on {
		return nil
	}
	dir := conf.get("spark.eventLog.dir", "")
	if dir == "" || e.opts.S3 == nil {
		return nil
	}
	u, err := url.Parse(dir)
	if err != nil || (u.Scheme != "s3a" && u.Scheme != "s3") || u.Host == "" {
		return fmt.Errorf("spark.eventLog.dir %q: the emulator writes event logs to s3a:// or s3:// only", dir)
	}
	appID := conf.get("spark.app.id", driver.Labels[wellknown.LabelSparkAppSelector])
	key := strings.TrimPrefix(strings.TrimSuffix(u.Path, "/")+"/"+appID, "/")
	if _, err := e.opts.S3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(u.Host), Key: aws.String(key)}); err == nil {
		return nil // written by an earlier pass, when the executors were still there
	}
	start := driver.CreationTimestamp.Time
	if driver.Status.StartTime != nil {
		start = driver.Status.StartTime.Time
	}
	now := e.now()
	cores, _ := conf.integer("spark.executor.cores", 1)
	mem, _ := conf.ExecutorMemoryMiB()
	app := sparksim.App{
		AppID: appID, AppName: conf.get("spark.app.name", "spark"), User: conf.get("spark.kubernetes.driverEnv.SPARK_USER", ""),
		MainClass: conf.get("spark.sparkplane.mainClass", ""), Start: start, Duration: max(now.Sub(start), time.Second),
		DriverHost: conf.get("spark.driver.host", ""), DriverIP: driver.Status.PodIP, EventLogDir: dir, Conf: conf,
		Jobs: 3, StagesPerJob: 2, Failed: code != 0, ExitCode: code, Seed: seed(appID),
	}
	if m := reImageVersion.FindStringSubmatch(conf.get("spark.kubernetes.container.image", driver.Spec.Containers[0].Image)); m != nil {
		app.SparkVersion = m[1]
	}
	if code != 0 {
		app.Exception = "org.apache.spark.SparkException: simulated failure: the driver exits with code " + strconv.Itoa(code)
		if message != "" {
			app.Exception = "org.apache.spark.SparkException: " + message
		}
	}
	for _, p := range executors {
		added := p.CreationTimestamp.Time
		if p.Status.StartTime != nil {
			added = p.Status.StartTime.Time
		}
		if added.Before(start) {
			added = start
		}
		app.Executors = append(app.Executors, sparksim.Executor{ID: p.Labels[wellknown.LabelSparkExecID], Host: p.Status.PodIP, Pod: p.Name,
			Cores: cores, MemoryMiB: int(mem), Added: added})
	}
	sort.Slice(app.Executors, func(i, j int) bool {
		a, _ := strconv.Atoi(app.Executors[i].ID)
		b, _ := strconv.Atoi(app.Executors[j].ID)
		return a < b
	})
	if len(app.Executors) == 0 {
		app.Jobs = 0 // a driver that never got executors ran no job
	}
	sim, err := app.Simulate()
	if err != nil {
		return fmt.Errorf("simulate the event log of %s: %w", appID, err)
	}
	var buf bytes.Buffer
	if err := sparksim.WriteLines(&buf, sim.EventLog()); err != nil {
		return err
	}
	_, err = e.opts.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(u.Host), Key: aws.String(key), Body: bytes.NewReader(buf.Bytes())})
	if err != nil {
		return fmt.Errorf("write event log s3://%s/%s: %w", u.Host, key, err)
	}
	e.log.Info("wrote the event log", "pod", driver.Namespace+"/"+driver.Name, "eventLog", "s3://"+u.Host+"/"+key, "bytes", buf.Len())
	return nil
}

func seed(s string) int64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(s))
	return int64(h.Sum64() >> 1)
}
