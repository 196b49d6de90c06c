// Package config is the typed configuration of `sparkplane server`, loaded with this
// precedence (lowest first): built-in defaults, the YAML file named by --config (or
// SPARKPLANE_CONFIG), SPARKPLANE_* environment variables, command-line flags.
//
// With no configuration at all the server listens on 127.0.0.1:8790, keeps its SQLite database
// in ${XDG_DATA_HOME:-~/.local/share}/sparkplane, uses region us-east-1 and account
// 000000000000, and on first start generates an access key, saves it with 0600 permissions in
// <dataDir>/credentials and prints it once.
//
// # YAML schema
//
//	listen: 127.0.0.1:8790          # host:port; flag --listen, env SPARKPLANE_LISTEN
//	dataDir: /var/lib/sparkplane    # flag --data-dir, env SPARKPLANE_DATA_DIR
//	database: /var/lib/sparkplane/sparkplane.db  # SQLite file (default <dataDir>/sparkplane.db; one server
//	                                             # process at a time), or a postgres:// URL (PostgreSQL 15+,
//	                                             # several replicas; pass secrets via SPARKPLANE_DATABASE)
//	region: us-east-1               # flag --region, env SPARKPLANE_REGION; SigV4 scope and ARNs
//	accountId: "000000000000"       # 12 digits; flag --account-id, env SPARKPLANE_ACCOUNT_ID
//	releaseCatalog: ""              # optional catalog file; default: the built-in catalog
//	costCatalog: ""                 # optional price file over the built-in prices (internal/cost)
//	metricsToken: ""                # bearer token /metrics requires; empty: open to the listener
//	logLevel: info                  # debug|info|warn|error; env SPARKPLANE_LOG_LEVEL
//	tls:                            # optional; serve HTTPS when both are set
//	  certFile: /etc/sparkplane/tls.crt
//	  keyFile: /etc/sparkplane/tls.key
//	credentialsFile: /var/lib/sparkplane/credentials  # flag --credentials-file
//	credentials:                    # administrator keys ("Action": "*"), in addition to the file
//	  - accessKeyId: AKIAEXAMPLE0000000001
//	    secretAccessKey: "..."      # never logged
//	    principal: arn:aws:iam::000000000000:user/alice   # becomes createdBy; default user/<key id>
//	executionRoles:                 # roles StartJobRun may name
//	  - arn: arn:aws:iam::000000000000:role/spark-jobs
//	    virtualClusters: ["*"]      # virtual cluster ids allowed to use it; "*" = all
//	containerProviders:             # Kubernetes clusters CreateVirtualCluster may name
//	  - id: sandbox                 # containerProvider.id in the API
//	    kubeconfig: /var/lib/sparkplane/sandbox/kubeconfig
//	    context: ""                 # optional kubeconfig context
//	    createNamespaces: true      # create a virtual cluster's namespace when missing
//	    namespaces: ["team-*", "spark"]  # namespaces virtual clusters may use; default: any
//	                                # but kube-* and sparkplane's own (POD_NAMESPACE)
//	controller:                     # the lifecycle controller (runs when a provider is set)
//	  pendingTimeout: 10m           # an unschedulable driver fails its attempt after this
//	  driverTTL: 1h                 # finished driver pods are deleted after this
//	  resync: 30s                   # every unfinished job run is looked at this often
//	  kubeTimeout: 10s              # one reconcile's Kubernetes calls; past it the run says it waits for Kubernetes
//	  workers: 32                   # job runs reconciled at once
//	  disabled: false               # serve the API only; job runs stay PENDING
//	leaderElection:                 # which replica runs the controller and cost recorders
//	  enabled: true                 # default: on with PostgreSQL, off with SQLite (one replica)
//	  namespace: sparkplane         # holds the Lease; default POD_NAMESPACE, else "default"
//	  name: sparkplane              # the Lease (coordination.k8s.io/v1) on the first container provider's cluster
//	  leaseDuration: 10s            # a dead leader is replaced this long after its last renewal (+ up to 2.2 retryPeriods)
//	  renewDeadline: 7s             # a leader that cannot renew this long stops; must be < leaseDuration
//	  retryPeriod: 1s               # renewals and tries to take the Lease; must be < renewDeadline/1.2
//	s3:                             # where s3:// pod templates are read
//	  endpoint: http://127.0.0.1:7070   # empty: AWS S3
//	  region: us-east-1             # default: the server's region
//	  accessKeyId: ...              # empty: the AWS default chain (env, IRSA, instance role)
//	  secretAccessKey: ...          # never logged
//	  forcePathStyle: true          # most S3-compatible servers need it
//	podTemplateDirs: [/etc/sparkplane/pod-templates]  # file:// templates must lie under these
//	jobDefaults:                    # an operator's defaults, below the user's settings
//	  - virtualClusters: ["analytics"]   # ids or names; "*" = all
//	    sparkConf: {spark.kubernetes.node.selector.app: demo}
//	    driverPodTemplate: s3://bucket/templates/driver-on-demand.yaml
//	    executorPodTemplate: s3://bucket/templates/executor-spot.yaml
//	defaultSettings:                # settings of virtual clusters the operator put none on
//	  maxConcurrentJobRuns: 0       # 0: no queue
//	  podPolicy:                    # empty: refuse every node-level privilege
//	    allowedHostPaths: [/pv-disks/local]
//	    allowedCapabilities: []
//	    allowRoot: false
//	    allowPrivileged: false
//	    allowHostNamespaces: false
//	secretsKeyFile: /etc/sparkplane/secrets/secrets.key  # seals users' secret keys; default
//	                                # <dataDir>/secrets.key (created); env SPARKPLANE_SECRETS_KEY_FILE,
//	                                # or the key itself in SPARKPLANE_SECRETS_KEY
//	audit:
//	  retention: 2160h              # audit events are kept this long (90 days)
//	eventLogUri: s3://bucket/spark-event-logs   # event logs of runs with persistentAppUI and no
//	                                # logUri go under <uri>/<vc>/jobs/<id>/sparklogs; empty: none
//	sparkUI:
//	  liveAccess: auto              # how the live Spark UI route reaches a running driver's UI port:
//	                                # direct (the pod IP; the server must be in the pod network),
//	                                # portforward (the API server's pods/portforward; needs RBAC create
//	                                # on pods/portforward), auto (direct for a provider without
//	                                # kubeconfig while the server runs in a pod, else portforward)
//	console:                        # the web console at /console/ (internal/console)
//	  disabled: false               # true: serve the API only
//	  sessionDuration: 12h          # how long a sign-in lasts, at most 168h
//	  secureCookies: false          # mark cookies Secure behind a proxy that terminates TLS
//	                                # (they are Secure anyway when tls is set)
//
// The credentials file uses the AWS shared-credentials INI format, so the same file works as
// AWS_SHARED_CREDENTIALS_FILE for the aws CLI and SDKs:
//
//	[default]
//	aws_access_key_id = SPK...
//	aws_secret_access_key = ...
//	sparkplane_principal = arn:aws:iam::000000000000:user/admin   # optional
package config
