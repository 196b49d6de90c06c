// Package storetest is the conformance suite every jobs.Store implementation must pass. A
// store package calls Run from its own test with a constructor for a fresh, empty store.
package storetest
