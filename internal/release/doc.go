// Package release owns the release-label catalog: which releaseLabel values (open-source
// "spark-3.5.3" style labels and Amazon EMR labels such as "emr-7.2.0-latest" or
// "emr-spark-8.0.0") sparkplane knows, the open-source Apache Spark version each one means,
// and the container image its pods use.
//
// The catalog is data, not code: a YAML file embedded in the binary (catalog.yaml) is the
// default, and an operator can replace or extend it with a file of the same shape (Load).
// The package is pure: it reads at most the one file it is given and talks to nothing else.
//
// An EMR label maps to the Spark version that EMR release ships, read from AWS's "Amazon EMR
// on EKS releases" pages (one per release, from emr-6.2.0 to emr-7.13.0 and emr-spark-8.0.0);
// each entry records the page in its source field, and catalog.yaml's header says how the
// pages were read and which two came from the EMR Release Guide instead. Images are the Apache
// Spark project's apache/spark images: v-prefixed release-process tags before 3.3, the
// apache/spark-docker tags from 3.3 on; where no image of the exact version exists the entry
// runs the nearest one of the same line and its note says so.
//
// A release whose Spark version the driver builder does not support (spark.CheckVersion,
// today emr-6.2.0 with Spark 3.0.1) is listed without an image: Lookup and Check refuse its
// label with an *UnsupportedReleaseError naming the supported range and the nearest labels
// that can run, instead of calling it unknown. An unknown label gives an *UnknownLabelError
// listing the nearest labels of the same family.
package release
