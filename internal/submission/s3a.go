package submission

import (
	"regexp"
	"strconv"
	"strings"
)

// Hadoop settings behind s3:// URIs. EMR's images read s3:// through EMRFS, which they
// configure themselves; every other image (the release catalog's apache/spark, or a custom
// one) has no filesystem for the s3 scheme unless it is told to use S3A, so an s3:// entry
// point, --jars, --files or pod template would fail there while the same job works on EMR.
const (
	confS3Impl         = "spark.hadoop.fs.s3.impl"
	confS3AbstractImpl = "spark.hadoop.fs.AbstractFileSystem.s3.impl"
	confS3ACredentials = "spark.hadoop.fs.s3a.aws.credentials.provider"

	confDriverImage   = "spark.kubernetes.driver.container.image"
	confExecutorImage = "spark.kubernetes.executor.container.image"
)

// Credential providers of the S3A defaults. The list keeps Hadoop's own default chain (keys
// in the Spark conf, environment variables, the instance profile) and adds the web identity
// provider after the explicit keys: IAM roles for service accounts put AWS_ROLE_ARN and
// AWS_WEB_IDENTITY_TOKEN_FILE into every pod whose service account carries the role, which
// sparkplane annotates on the service account of each execution role. A provider that finds
// nothing lets S3A try the next, so clusters without IRSA lose nothing.
//
// Hadoop 3.3 (Spark 3.x) instantiates AWS SDK v1 providers. Hadoop 3.4 (Spark 4.x) uses SDK
// v2 and maps only a few v1 class names to v2 ones, not the web identity provider, so each
// line names its own classes.
var (
	s3aProvidersSDKv1 = strings.Join([]string{
		"org.apache.hadoop.fs.s3a.TemporaryAWSCredentialsProvider",
		"org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider",
		"com.amazonaws.auth.WebIdentityTokenCredentialsProvider",
		"com.amazonaws.auth.EnvironmentVariableCredentialsProvider",
		"org.apache.hadoop.fs.s3a.auth.IAMInstanceCredentialsProvider",
	}, ",")
	s3aProvidersSDKv2 = strings.Join([]string{
		"org.apache.hadoop.fs.s3a.TemporaryAWSCredentialsProvider",
		"org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider",
		"software.amazon.awssdk.auth.credentials.WebIdentityTokenFileCredentialsProvider",
		"software.amazon.awssdk.auth.credentials.EnvironmentVariableCredentialsProvider",
		"org.apache.hadoop.fs.s3a.auth.IAMInstanceCredentialsProvider",
	}, ",")
)

// S3ADefaults returns the release-label defaults that make s3:// URIs work through Hadoop's S3A
// connector with the pod's web identity (IRSA) credentials, for a job on Spark sparkVersion
// whose driver and executors run driverImage and executorImage. It returns nil when either
// image is an EMR image (see IsEMRImage), whose EMRFS must keep the s3 scheme. The settings
// are the lowest level of the configuration precedence: any of them set anywhere else wins.
//
// The image still needs hadoop-aws and the AWS SDK bundle on its classpath (the apache/spark
// images carry neither); deploy/images has a recipe.
func S3ADefaults(sparkVersion, driverImage, executorImage string) map[string]string {
	if IsEMRImage(driverImage) || IsEMRImage(executorImage) {
		return nil
	}
	providers := s3aProvidersSDKv1
	if sparkMajor(sparkVersion) >= 4 {
		providers = s3aProvidersSDKv2
	}
	return map[string]string{
		confS3Impl:         "org.apache.hadoop.fs.s3a.S3AFileSystem",
		confS3AbstractImpl: "org.apache.hadoop.fs.s3a.S3A",
		confS3ACredentials: providers,
	}
}

var (
	// reEMRRepository matches the last path element of the EMR on EKS base images
	// (<account>.dkr.ecr.<region>.amazonaws.com/spark/emr-6.5.0, public.ecr.aws/emr-on-eks/spark/emr-7.2.0).
	reEMRRepository = regexp.MustCompile(`^emr-[0-9]+\.[0-9]+`)
	// reEMRTag matches tags that name the EMR release an image was built from, the
	// convention for custom images on an EMR base (eks-spark-benchmark:emr6.5).
	reEMRTag = regexp.MustCompile(`^emr-?[0-9]`)
)

// IsEMRImage reports whether image is an Amazon EMR on EKS image or, by the naming convention
// EMR's documentation and samples follow, one built on it: its repository is emr-<version>
// (spark/emr-6.5.0) or its tag starts with emr and a version (emr6.5, emr-6.5.0). Such
// images configure s3:// themselves (EMRFS). A custom EMR-based image named otherwise gets
// the S3A defaults; set spark.hadoop.fs.s3.impl to keep EMRFS on it.
func IsEMRImage(image string) bool {
	ref, _, _ := strings.Cut(image, "@")
	repo, tag := ref, ""
	if i := strings.LastIndex(ref, ":"); i > strings.LastIndex(ref, "/") {
		repo, tag = ref[:i], ref[i+1:]
	}
	name := repo[strings.LastIndex(repo, "/")+1:]
	return reEMRRepository.MatchString(name) || reEMRTag.MatchString(tag)
}

// sparkMajor returns the major version of a "MAJOR.MINOR.PATCH" Spark version, or -1.
func sparkMajor(version string) int {
	major, _, _ := strings.Cut(version, ".")
	n, err := strconv.Atoi(major)
	if err != nil {
		return -1
	}
	return n
}

// effectiveImages returns the images the driver and the executors run, as spark-submit picks
// them: the role's own setting, else spark.kubernetes.container.image, else the release's.
func effectiveImages(conf map[string]string, releaseImage string) (driver, executor string) {
	image := releaseImage
	if v := conf[confImage]; v != "" {
		image = v
	}
	driver, executor = image, image
	if v := conf[confDriverImage]; v != "" {
		driver = v
	}
	if v := conf[confExecutorImage]; v != "" {
		executor = v
	}
	return driver, executor
}
