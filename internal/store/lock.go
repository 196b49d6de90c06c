package store

import "fmt"

// InUseError says that another process holds a SQLite database's lock (<path>.lock, see
// Open): a server, or a store command such as store migrate.
type InUseError struct {
	// Path is the database file.
	Path string
	// PID is the holder's process id as it wrote it into the lock file, or "unknown".
	PID string
}

// Error says who holds the database and what to do instead: what a second server is told.
func (e *InUseError) Error() string {
	return fmt.Sprintf("database %s is in use by another sparkplane process (pid %s); SQLite supports one replica, use PostgreSQL for several", e.Path, e.PID)
}
