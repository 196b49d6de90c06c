package cli

import (
	"fmt"
	"reflect"

	"github.com/spf13/cobra"
)

// optional returns nil for an empty flag so that unset flags are not sent.
func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// optionalParam parses a JSON/shorthand flag only when it was given.
func optionalParam(flag, raw string, dst any) error {
	if raw == "" {
		return nil
	}
	return parseParam(flag, raw, dst)
}

// checkEnumFlag checks a single-valued enum flag against the SDK enum type T.
func checkEnumFlag[T ~string](flag, v string) error {
	if err := checkEnum(reflect.TypeFor[T](), v); err != nil {
		return fmt.Errorf("--%s: %w", flag, err)
	}
	return nil
}

// mustRequire marks flags as required; it panics only on a programming error (a typo in a
// flag name), which the tests catch.
func mustRequire(c *cobra.Command, names ...string) {
	for _, n := range names {
		if err := c.MarkFlagRequired(n); err != nil {
			panic(err)
		}
	}
}

// errRequired reports a missing flag the way cobra does for flags it marks required.
func errRequired(flag string) error {
	return fmt.Errorf("required flag(s) %q not set", flag)
}

// jobRunIDArg takes the job run of a command that names it by --id or as its one argument
// (jobs cost, jobs ui) into id, and refuses a command that names none or two different ones.
func jobRunIDArg(id *string, args []string) error {
	if len(args) == 1 {
		if *id != "" && *id != args[0] {
			return fmt.Errorf("--id: %q and the argument %q name different job runs; give one", *id, args[0])
		}
		*id = args[0]
	}
	if *id == "" {
		return errRequired("id")
	}
	return nil
}
