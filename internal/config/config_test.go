package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

func TestLoadPrecedenceAndValidation(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "c.yaml")
	if err := os.WriteFile(file, []byte("listen: 127.0.0.1:9000\nregion: eu-west-1\ndataDir: "+dir+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	example, err := filepath.Abs("../../deploy/config.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		args    []string
		env     map[string]string
		check   func(Config) bool
		wantErr string
	}{
		{"defaults", nil, nil, func(c Config) bool {
			return c.Listen == "127.0.0.1:8790" && c.Region == "us-east-1" && c.AccountID == "000000000000" && strings.HasSuffix(c.DataDir, "sparkplane") &&
				c.Database == filepath.Join(c.DataDir, "sparkplane.db")
		}, ""},
		{"file", []string{"--config", file}, nil, func(c Config) bool { return c.Listen == "127.0.0.1:9000" && c.Region == "eu-west-1" }, ""},
		{"env over file", []string{"--config", file}, map[string]string{"SPARKPLANE_REGION": "us-west-2"}, func(c Config) bool { return c.Region == "us-west-2" }, ""},
		{"flag over env", []string{"--config", file, "--region", "ap-south-1"}, map[string]string{"SPARKPLANE_REGION": "us-west-2"}, func(c Config) bool { return c.Region == "ap-south-1" }, ""},
		{"example file", []string{"--config", example}, nil, func(c Config) bool { return len(c.ExecutionRoles) == 1 && c.ContainerProviders[0].ID == "sandbox" }, ""},
		{"bad account", []string{"--account-id", "123"}, nil, nil, "accountId"},
		{"bad listen", []string{"--listen", "nohost"}, nil, nil, "listen"},
		{"unknown yaml field", nil, map[string]string{"SPARKPLANE_CONFIG": writeFile(t, "lisen: x\n")}, nil, "lisen"},
		{"bad role", nil, map[string]string{"SPARKPLANE_CONFIG": writeFile(t, "executionRoles: [{arn: nope}]\n")}, nil, "executionRoles[0].arn"},
		{"bad eventLogUri", nil, map[string]string{"SPARKPLANE_CONFIG": writeFile(t, "eventLogUri: hdfs://x/logs\n")}, nil, "eventLogUri: must be an S3 URI"},
		{"bad default pod policy", nil, map[string]string{"SPARKPLANE_CONFIG": writeFile(t, "defaultSettings: {podPolicy: {allowedHostPaths: [relative]}}\n")}, nil, "defaultSettings"},
		{"unknown settings member", nil, map[string]string{"SPARKPLANE_CONFIG": writeFile(t, "defaultSettings: {podPolicy: {alowRoot: true}}\n")}, nil, "alowRoot"},
		{"log shipping", nil, map[string]string{"SPARKPLANE_CONFIG": writeFile(t, "logShipping: {image: 'reg.example/sparkplane:1', endpoint: 'http://s3.local:9000', forcePathStyle: true, credentialsSecret: log-writer, cpu: 100m}\n")},
			func(c Config) bool {
				return c.LogShipping.Image == "reg.example/sparkplane:1" && c.LogShipping.ForcePathStyle && c.LogShipping.CredentialsSecret == "log-writer"
			}, ""},
		{"bad log shipping pull policy", nil, map[string]string{"SPARKPLANE_CONFIG": writeFile(t, "logShipping: {imagePullPolicy: sometimes}\n")}, nil, "logShipping.imagePullPolicy"},
		{"bad log shipping endpoint", nil, map[string]string{"SPARKPLANE_CONFIG": writeFile(t, "logShipping: {endpoint: 's3.local'}\n")}, nil, "logShipping.endpoint"},
		{"relative entrypoint", nil, map[string]string{"SPARKPLANE_CONFIG": writeFile(t, "logShipping: {entrypoints: [entrypoint.sh]}\n")}, nil, "logShipping.entrypoints[0]"},
		{"bad log shipping memory", nil, map[string]string{"SPARKPLANE_CONFIG": writeFile(t, "logShipping: {memory: lots}\n")}, nil, "logShipping.memory"},
		{"bad credentials secret", nil, map[string]string{"SPARKPLANE_CONFIG": writeFile(t, "logShipping: {credentialsSecret: Log_Writer}\n")}, nil, "logShipping.credentialsSecret"},
		{"live UI access", nil, map[string]string{"SPARKPLANE_CONFIG": writeFile(t, "sparkUI: {liveAccess: portforward}\n")},
			func(c Config) bool { return c.SparkUI.LiveAccess == LiveAccessPortForward }, ""},
		{"bad live UI access", nil, map[string]string{"SPARKPLANE_CONFIG": writeFile(t, "sparkUI: {liveAccess: proxy}\n")}, nil,
			`sparkUI.liveAccess: must be auto, direct or portforward, got "proxy"`},
		{"negative audit retention", nil, map[string]string{"SPARKPLANE_CONFIG": writeFile(t, "audit: {retention: -1h}\n")}, nil, "audit.retention"},
		{"secrets key file from env", nil, map[string]string{"SPARKPLANE_SECRETS_KEY_FILE": "/etc/k"}, func(c Config) bool { return c.SecretsKeyFile == "/etc/k" }, ""},
		{"controller settings", nil, map[string]string{"SPARKPLANE_CONFIG": writeFile(t, "controller: {pendingTimeout: 90s, driverTTL: 2h, workers: 8}\nmetricsToken: t\n")},
			func(c Config) bool {
				return c.Controller.PendingTimeout.Minutes() == 1.5 && c.Controller.DriverTTL.Hours() == 2 && c.Controller.Workers == 8 && c.MetricsToken == "t"
			}, ""},
		{"bad duration", nil, map[string]string{"SPARKPLANE_CONFIG": writeFile(t, "controller: {driverTTL: soon}\n")}, nil, `invalid duration "soon"`},
		{"negative duration", nil, map[string]string{"SPARKPLANE_CONFIG": writeFile(t, "controller: {resync: -1s}\n")}, nil, "controller.resync"},
		{"kube timeout", nil, map[string]string{"SPARKPLANE_CONFIG": writeFile(t, "controller: {kubeTimeout: 3s}\n")},
			func(c Config) bool { return c.Controller.KubeTimeout.Seconds() == 3 }, ""},
		{"negative kube timeout", nil, map[string]string{"SPARKPLANE_CONFIG": writeFile(t, "controller: {kubeTimeout: -3s}\n")}, nil, "controller.kubeTimeout"},
		{"too many workers", nil, map[string]string{"SPARKPLANE_CONFIG": writeFile(t, "controller: {workers: 5000}\n")}, nil, "controller.workers"},
		{"bad s3 endpoint", nil, map[string]string{"SPARKPLANE_CONFIG": writeFile(t, "s3: {endpoint: 'ftp://x'}\n")}, nil, "s3.endpoint"},
		{"s3 key without secret", nil, map[string]string{"SPARKPLANE_CONFIG": writeFile(t, "s3: {accessKeyId: AKIA}\n")}, nil, "set together"},
		{"relative template dir", nil, map[string]string{"SPARKPLANE_CONFIG": writeFile(t, "podTemplateDirs: [templates]\n")}, nil, "podTemplateDirs[0]"},
		{"defaults without clusters", nil, map[string]string{"SPARKPLANE_CONFIG": writeFile(t, "jobDefaults: [{sparkConf: {spark.a: b}}]\n")}, nil, "jobDefaults[0].virtualClusters"},
		{"defaults with a non-spark key", nil, map[string]string{"SPARKPLANE_CONFIG": writeFile(t, "jobDefaults: [{virtualClusters: ['*'], sparkConf: {a: b}}]\n")}, nil, "jobDefaults[0].sparkConf"},
		{"console settings", nil, map[string]string{"SPARKPLANE_CONFIG": writeFile(t, "console: {sessionDuration: 2h, secureCookies: true}\n")},
			func(c Config) bool {
				return c.Console.SessionDuration.Hours() == 2 && c.Console.SecureCookies && !c.Console.Disabled
			}, ""},
		{"negative console session", nil, map[string]string{"SPARKPLANE_CONFIG": writeFile(t, "console: {sessionDuration: -1h}\n")}, nil, "console.sessionDuration: must be between 0 (the default, 12h) and 168h0m0s, got -1h"},
		{"console session too long", nil, map[string]string{"SPARKPLANE_CONFIG": writeFile(t, "console: {sessionDuration: 200h}\n")}, nil, "console.sessionDuration: must be between"},
		{"database with another scheme", nil, map[string]string{"SPARKPLANE_DATABASE": "postgress://u@db/sparkplane"}, nil, "config database: must be a postgres:// URL or the path of a SQLite file, got a postgress:// URL"},
		{"database as key=value", nil, map[string]string{"SPARKPLANE_DATABASE": "host=db dbname=sparkplane"}, nil, "config database: key=value connection strings are not accepted"},
		{"database as postgresql URL", nil, map[string]string{"SPARKPLANE_DATABASE": "postgresql://u@db/sparkplane"}, func(c Config) bool { return c.Database == "postgresql://u@db/sparkplane" }, ""},
		{"leader election settings", nil, map[string]string{"SPARKPLANE_CONFIG": writeFile(t, "leaderElection: {enabled: true, namespace: ops, name: sp.lease, leaseDuration: 20s, renewDeadline: 15s, retryPeriod: 3s}\ncontainerProviders: [{id: c}]\n")},
			func(c Config) bool {
				l := c.LeaderElection
				return *l.Enabled && l.Namespace == "ops" && l.Name == "sp.lease" && l.LeaseDuration.Seconds() == 20 && l.RenewDeadline.Seconds() == 15 && l.RetryPeriod.Seconds() == 3
			}, ""},
		{"renew deadline not below the lease", nil, map[string]string{"SPARKPLANE_CONFIG": writeFile(t, "leaderElection: {renewDeadline: 10s}\n")}, nil, "config leaderElection.renewDeadline: must be shorter than leaderElection.leaseDuration (10s), got 10s"},
		{"retry period too long", nil, map[string]string{"SPARKPLANE_CONFIG": writeFile(t, "leaderElection: {retryPeriod: 6s}\n")}, nil, "config leaderElection.retryPeriod: must be shorter than leaderElection.renewDeadline (7s)"},
		{"retry period too short", nil, map[string]string{"SPARKPLANE_CONFIG": writeFile(t, "leaderElection: {retryPeriod: 10ms}\n")}, nil, "config leaderElection.retryPeriod: must be at least 100ms"},
		{"negative lease", nil, map[string]string{"SPARKPLANE_CONFIG": writeFile(t, "leaderElection: {leaseDuration: -1s}\n")}, nil, "config leaderElection.leaseDuration: must not be negative"},
		{"bad lease namespace", nil, map[string]string{"SPARKPLANE_CONFIG": writeFile(t, "leaderElection: {namespace: Ops_1}\n")}, nil, "config leaderElection.namespace"},
		{"bad lease name", nil, map[string]string{"SPARKPLANE_CONFIG": writeFile(t, "leaderElection: {name: 'a/b'}\n")}, nil, "config leaderElection.name"},
		{"leader election without a cluster", nil, map[string]string{"SPARKPLANE_CONFIG": writeFile(t, "leaderElection: {enabled: true}\n")}, nil, "config leaderElection.enabled: needs a container provider"},
		{"defaults with a bare template path", nil, map[string]string{"SPARKPLANE_CONFIG": writeFile(t, "jobDefaults: [{virtualClusters: ['*'], driverPodTemplate: driver.yaml}]\n")}, nil, "jobDefaults[0].driverPodTemplate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
			f := RegisterFlags(fs)
			if err := fs.Parse(tc.args); err != nil {
				t.Fatal(err)
			}
			c, err := Load(f, func(k string) string { return tc.env[k] })
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got %v, want error naming %s", err, tc.wantErr)
				}
				return
			}
			if err != nil || !tc.check(c) {
				t.Fatalf("got %+v, %v", c, err)
			}
		})
	}
}

func writeFile(t *testing.T, body string) string {
	p := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestEnsureCredentialsGeneratesOnce(t *testing.T) {
	c := Defaults()
	c.DataDir = t.TempDir()
	c.CredentialsFile = filepath.Join(c.DataDir, "sub", "credentials")
	keys, gen, err := c.EnsureCredentials()
	if err != nil || gen == nil || len(keys) != 1 || keys[0].Principal != "arn:aws:iam::000000000000:user/"+gen.AccessKeyID {
		t.Fatalf("first start: %v %v %v", keys, gen, err)
	}
	st, err := os.Stat(c.CredentialsFile)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("credentials file mode: %v %v", st, err)
	}
	keys2, gen2, err := c.EnsureCredentials()
	if err != nil || gen2 != nil || len(keys2) != 1 || keys2[0].SecretAccessKey != gen.SecretAccessKey {
		t.Fatalf("second start: %v %v %v", keys2, gen2, err)
	}
	if s := keys2[0].String(); strings.Contains(s, gen.SecretAccessKey) {
		t.Fatal("Credential.String leaks the secret")
	}
}

// TestLeaderElectionOn pins when a server takes part in leader election.
func TestLeaderElectionOn(t *testing.T) {
	on, off := true, false
	cluster := []ContainerProvider{{ID: "c"}}
	for _, tc := range []struct {
		name string
		cfg  Config
		want bool
	}{
		{"SQLite", Config{Database: "/var/lib/sparkplane/sparkplane.db", ContainerProviders: cluster}, false},
		{"PostgreSQL", Config{Database: "postgres://u@h/db", ContainerProviders: cluster}, true},
		{"PostgreSQL, turned off", Config{Database: "postgres://u@h/db", ContainerProviders: cluster, LeaderElection: LeaderElection{Enabled: &off}}, false},
		{"SQLite, turned on", Config{Database: "/x.db", ContainerProviders: cluster, LeaderElection: LeaderElection{Enabled: &on}}, true},
		{"no cluster", Config{Database: "postgres://u@h/db"}, false},
		{"controller disabled", Config{Database: "postgres://u@h/db", ContainerProviders: cluster, Controller: Controller{Disabled: true}}, false},
	} {
		if got := tc.cfg.LeaderElectionOn(); got != tc.want {
			t.Errorf("%s: LeaderElectionOn() = %v, want %v", tc.name, got, tc.want)
		}
	}
	d := LeaderElection{}.WithDefaults()
	if d.Name != "sparkplane" || d.LeaseDuration.Duration != DefaultLeaseDuration || d.RenewDeadline.Duration != DefaultRenewDeadline || d.RetryPeriod.Duration != DefaultRetryPeriod {
		t.Errorf("defaults: %+v", d)
	}
}
