package cli

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/sparkplane/sparkplane/internal/store"
)

// StoreCommands returns the store group: an operator's offline tools that work on a server's
// database directly, with no server running and no API call (store migrate, store backup).
// They take no endpoint or credentials: what they need is access to the database itself.
func StoreCommands() []*cobra.Command {
	// `sparkplane backup` is store backup under the name an operator looks for first.
	backup := storeBackupCmd()
	backup.Use = "backup --database PATH --to FILE"
	backup.Short += " (the same as store backup)"
	return []*cobra.Command{group("store", "Work on a server's database directly: move it to PostgreSQL, back it up",
		storeMigrateCmd(), storeBackupCmd()), backup}
}

// secretsKeyNote is what both commands say about the key that seals users' secret access
// keys: the database holds them sealed, never the key.
const secretsKeyNote = "users' secret access keys are stored sealed with the server's secrets key (its secretsKeyFile, default <dataDir>/secrets.key, or SPARKPLANE_SECRETS_KEY), which the database does not hold"

// pgDumpHint says how to back up and restore PostgreSQL, which store backup does not do.
const pgDumpHint = `back up PostgreSQL with pg_dump (pg_dump --format=custom --file=FILE "$URL") and restore it with pg_restore`

// sqlitePathFlag reads a flag naming a SQLite file as sqlite:PATH (or, when bare is true,
// PATH too). It never quotes the value back: a wrong one may be a URL with a password.
func sqlitePathFlag(flag, value string, bare bool) (string, error) {
	want := "sqlite:PATH, the server's SQLite database file (for example sqlite:/var/lib/sparkplane/sparkplane.db)"
	if bare {
		want = "the path of the server's SQLite database file, or sqlite:PATH"
	}
	switch {
	case store.IsPostgresURL(value):
		return "", fmt.Errorf("--%s: a PostgreSQL URL; want %s", flag, want)
	case strings.HasPrefix(value, "sqlite:") && len(value) > len("sqlite:"):
		return strings.TrimPrefix(value, "sqlite:"), nil
	case bare && value != "" && !strings.Contains(value, "://"):
		return value, nil
	}
	return "", fmt.Errorf("--%s: want %s", flag, want)
}

func storeMigrateCmd() *cobra.Command {
	var from, to string
	c := &cobra.Command{
		Use:   "migrate --from sqlite:PATH --to postgres://...",
		Short: "Copy a SQLite installation into an empty PostgreSQL database and verify the copy",
		Long: "Copy every table of a stopped server's SQLite database into an empty PostgreSQL database, then\n" +
			"compare the two before committing. It talks to both databases directly; no server may run on\n" +
			"either (the SQLite database's lock refuses a copy while a server holds it, and holds servers off\n" +
			"until the copy ends).\n\n" +
			"It refuses a PostgreSQL database that holds sparkplane data, applies the server's PostgreSQL\n" +
			"migrations, and copies in one transaction, table by table in batches: ids, versions, timestamps,\n" +
			"JSON documents, sealed access keys, audit events, cost records, clientTokens and queue state as\n" +
			"they are; the audit log's sequence continues where SQLite's stopped. It then reads both sides\n" +
			"back in key order and compares every row, the row counts and a SHA-256 of each table, and\n" +
			"prints them. On any difference it rolls back, names the table and row, and exits 1: the target\n" +
			"stays empty and the command can be run again.\n\n" +
			"The secrets key does not change: give the servers on PostgreSQL the same secretsKeyFile or\n" +
			"SPARKPLANE_SECRETS_KEY the SQLite server had. README.md \"Backup and restore\" has the procedure.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			path, err := sqlitePathFlag("from", from, false)
			if err != nil {
				return err
			}
			if err := store.CheckPostgresURL(to); err != nil {
				return fmt.Errorf("--to: %w", err)
			}
			ctx := ctxOf(cmd)
			src, err := store.OpenSQLiteSource(ctx, path)
			if err != nil {
				return fmt.Errorf("--from: %w", err)
			}
			defer func() { _ = src.Close() }() // it only read; closing releases the lock
			dst, err := store.ConnectPostgresTarget(ctx, to)
			if err != nil {
				return fmt.Errorf("--to: %w", err)
			}
			defer func() { _ = dst.Close() }() // the outcome is already committed or rolled back

			out, errOut := cmd.OutOrStdout(), cmd.ErrOrStderr()
			fmt.Fprintf(out, "Copying SQLite database %s (schema version %d)\n   into %s\n", src.Path, src.Version, dst)
			report, err := store.CopyToPostgres(ctx, src, dst, store.CopyOptions{Progress: progressPrinter(errOut)})
			var notEmpty *store.NotEmptyError
			if errors.As(err, &notEmpty) {
				return fmt.Errorf("--to: %w", err)
			}
			if len(report.Tables) > 0 {
				printCopyReport(out, report)
			}
			if err != nil {
				return err
			}
			var rows int64
			for _, t := range report.Tables {
				rows += t.TargetRows
			}
			fmt.Fprintf(out, "\nCopied and verified %d rows in %s (copy %s, verify %s); committed. PostgreSQL's schema is at version %d.\n",
				rows, (report.Copy + report.Verify).Round(time.Millisecond), report.Copy.Round(time.Millisecond), report.Verify.Round(time.Millisecond), report.TargetVersion)
			fmt.Fprintf(out, "The audit log continues at seq %d.\n", report.NextAuditSeq)
			if report.AnalyzeErr != nil {
				fmt.Fprintf(errOut, "warning: %v (autovacuum will gather the statistics later)\n", report.AnalyzeErr)
			}
			fmt.Fprintf(out, "\nNext:\n"+
				"  - Give the servers on PostgreSQL the same secrets key as the SQLite server: %s.\n"+
				"  - Start them with database: postgres://... (or SPARKPLANE_DATABASE).\n"+
				"  - Do not start a server on %s again: what it accepted would not reach PostgreSQL. Keep it as a backup.\n",
				secretsKeyNote, src.Path)
			return nil
		},
	}
	f := c.Flags()
	f.StringVar(&from, "from", "", "the SQLite database to copy, as sqlite:PATH (its server stopped)")
	f.StringVar(&to, "to", "", "the empty PostgreSQL database to copy into, as postgres://user@host:5432/dbname?sslmode=...")
	mustRequire(c, "from", "to")
	return c
}

// progressPrinter prints the copy's progress: a line when a table starts being counted, then
// at most one a second.
func progressPrinter(w io.Writer) func(table string, copied int64) {
	var last string
	var at time.Time
	return func(table string, copied int64) {
		if table == last && time.Since(at) < time.Second {
			return
		}
		last, at = table, time.Now()
		fmt.Fprintf(w, "copying %s: %d rows\n", table, copied)
	}
}

func printCopyReport(w io.Writer, r store.CopyReport) {
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 4, 3, ' ', 0)
	fmt.Fprintln(tw, "TABLE\tSQLITE ROWS\tPOSTGRESQL ROWS\tSHA-256 SQLITE\tSHA-256 POSTGRESQL\tSTATUS")
	short := func(sum string) string { return sum[:min(len(sum), 16)] }
	for _, t := range r.Tables {
		status := "ok"
		if t.Problem != "" {
			status = "DIFFERS: " + t.Problem
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\t%s\n", t.Table, t.SourceRows, t.TargetRows, short(t.SourceSum), short(t.TargetSum), status)
	}
	tw.Flush()
}

func storeBackupCmd() *cobra.Command {
	var database, to string
	c := &cobra.Command{
		Use:   "backup --database PATH --to FILE",
		Short: "Write a consistent, checked copy of a SQLite database, while its server runs",
		Long: "Write a consistent copy of a server's SQLite database to FILE, online: the server keeps running\n" +
			"and writing. The copy is one snapshot of the database (every write committed before it, none\n" +
			"after), taken with SQLite's online backup API from a read transaction, which in WAL mode does\n" +
			"not hold the server's writes. It is written to a temporary file beside FILE, fsynced, opened\n" +
			"read-only and checked (PRAGMA integrity_check, and every table's row count against the\n" +
			"snapshot's), then renamed to FILE. An existing FILE is refused, not overwritten.\n\n" +
			"The backup does not hold the secrets key: keep the server's secretsKeyFile (or\n" +
			"SPARKPLANE_SECRETS_KEY) as well, apart from it. For PostgreSQL use pg_dump. README.md\n" +
			"\"Backup and restore\" has the restore steps.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if store.IsPostgresURL(database) {
				return fmt.Errorf("--database: store backup copies a SQLite database; %s", pgDumpHint)
			}
			path, err := sqlitePathFlag("database", database, true)
			if err != nil {
				return err
			}
			if to == "" {
				return errRequired("to")
			}
			report, err := store.BackupSQLite(ctxOf(cmd), path, to, store.BackupOptions{})
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "Backed up %s (schema version %d) to %s: %d bytes in %s, the snapshot held for %s.\n",
				path, report.SchemaVersion, report.Path, report.Bytes, report.Elapsed.Round(time.Millisecond), report.Snapshot.Round(time.Millisecond))
			fmt.Fprintln(out, "Checked read-only: integrity_check ok, every table's rows as in the snapshot.")
			fmt.Fprintln(out)
			tw := tabwriter.NewWriter(out, 0, 4, 3, ' ', 0)
			fmt.Fprintln(tw, "TABLE\tROWS")
			for _, t := range report.Tables {
				fmt.Fprintf(tw, "%s\t%d\n", t.Table, t.Rows)
			}
			tw.Flush()
			fmt.Fprintf(out, "\nKeep the secrets key with the backup, stored apart: %s.\n", secretsKeyNote)
			return nil
		},
	}
	f := c.Flags()
	f.StringVar(&database, "database", "", "the server's SQLite database file (PATH or sqlite:PATH)")
	f.StringVar(&to, "to", "", "the backup file to write; it must not exist")
	mustRequire(c, "database", "to")
	return c
}
