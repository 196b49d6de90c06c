// Package storetest is the conformance suite every store implementation must pass: Run for
// jobs.Store (resources, the filters and counts of job runs, the queue's admission and virtual
// cluster settings), RunCost for cost.Store, RunAccess for access.Store, RunSessions for
// access.SessionStore and RunAudit for audit.Store. A store package calls them from its own
// tests with a constructor for a fresh, empty store.
package storetest
