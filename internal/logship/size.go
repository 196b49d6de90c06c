package logship

import (
	"fmt"
	"math/big"
	"regexp"
)

// The limits of EMR's containerLogRotationConfiguration, which log-wrap enforces with the
// same words the API uses.
const (
	// MinRotationSize is the smallest rotationSize EMR accepts (2KB).
	MinRotationSize int64 = 2 << 10
	// MaxRotationSize is the largest rotationSize EMR accepts (2GB).
	MaxRotationSize int64 = 2 << 30
	// MinFilesToKeep and MaxFilesToKeep bound maxFilesToKeep.
	MinFilesToKeep = 1
	MaxFilesToKeep = 50
)

// The rotation a pod gets when its run names none: small enough that what is left to ship
// when a pod ends fits in a termination grace period, large enough to be a few S3 parts.
const (
	DefaultRotationSize = "64MB"
	DefaultMaxFiles     = 10
)

// sizePattern is EMR's pattern for rotationSize.
var sizePattern = regexp.MustCompile(`^(\d+(?:\.\d+)?)([KMG])[Bb]?$`)

// ParseSize parses a rotationSize as EMR writes it: a decimal number and a unit K, M or G,
// optionally followed by B or b ("64KB", "1.5G", "2Gb"), matching ^\d+(\.\d+)?[KMG][Bb]?$.
// Units are binary (K is 1024 bytes), a fraction is rounded down to whole bytes, and the
// result must lie between MinRotationSize (2KB) and MaxRotationSize (2GB). Errors name the
// rule that failed, so the API's validation and log-wrap can return them as they are.
func ParseSize(s string) (int64, error) {
	m := sizePattern.FindStringSubmatch(s)
	if m == nil {
		return 0, fmt.Errorf("rotation size %q must be a number and a unit K, M or G, optionally followed by B (^\\d+(\\.\\d+)?[KMG][Bb]?$, for example 64KB or 1.5GB)", s)
	}
	// big.Rat keeps "2.000000000000000001G" exact where a float64 would round it.
	n, ok := new(big.Rat).SetString(m[1])
	if !ok {
		return 0, fmt.Errorf("rotation size %q: %q is not a number", s, m[1])
	}
	unit := map[string]int64{"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}[m[2]]
	n.Mul(n, new(big.Rat).SetInt64(unit))
	bytes := new(big.Int).Quo(n.Num(), n.Denom())
	if bytes.Cmp(big.NewInt(MinRotationSize)) < 0 {
		return 0, fmt.Errorf("rotation size %q is below the minimum of 2KB", s)
	}
	if bytes.Cmp(big.NewInt(MaxRotationSize)) > 0 {
		return 0, fmt.Errorf("rotation size %q is above the maximum of 2GB", s)
	}
	return bytes.Int64(), nil
}

// CheckFilesToKeep checks a maxFilesToKeep against EMR's range.
func CheckFilesToKeep(n int) error {
	if n < MinFilesToKeep || n > MaxFilesToKeep {
		return fmt.Errorf("max files to keep must be between %d and %d, got %d", MinFilesToKeep, MaxFilesToKeep, n)
	}
	return nil
}
