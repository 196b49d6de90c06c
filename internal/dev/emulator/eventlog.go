package emulator

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	corev1 "k8s.io/api/core/v1"

	"github.com/sparkplane/sparkplane/internal/dev/sparksim"
)

// writeEventLog writes, as a Spark driver with spark.eventLog.enabled does, the event log of
// the application the emulator simulated for driver (buildApp: the executor pods it created,
// when they started, the run from the driver's start to its end, and its outcome), the same
// simulation its driver and executor logs come from. It goes to spark.eventLog.dir/<app id>
// in S3. A driver whose event log cannot be written goes on, as Spark's does.
func (e *Emulator) writeEventLog(ctx context.Context, driver *corev1.Pod, conf Conf, sim *sparksim.Simulation) error {
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
	appID := sim.App().AppID
	key := strings.TrimPrefix(strings.TrimSuffix(u.Path, "/")+"/"+appID, "/")
	if _, err := e.opts.S3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(u.Host), Key: aws.String(key)}); err == nil {
		return nil // written by an earlier pass, when the executors were still there
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
