// Package iam parses and evaluates IAM-style identity policies, so that sparkplane can
// authorize emr-containers calls the way AWS IAM would. It is pure: no I/O, standard library
// only. The full statement of what is and is not implemented follows in a later change.
package iam
