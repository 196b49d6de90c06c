package jobs

import (
	"fmt"
	"strconv"
	"strings"
)

// Bounds of containerLogRotationConfiguration.rotationSize, as EMR on EKS documents them.
const (
	MinRotationSize = 2 << 10
	MaxRotationSize = 2 << 30
)

// ParseRotationSize reads a containerLogRotationConfiguration.rotationSize ("2KB", "512M",
// "1.5GB": a number and a K, M or G unit of 1024, an optional B) into bytes, and checks that it
// lies between 2KB and 2GB. The error states the rule.
func ParseRotationSize(s string) (int64, error) {
	if !reRotationSize.MatchString(s) {
		return 0, fmt.Errorf("must be a number followed by K, M or G and an optional B, such as 2KB or 512MB, got %q", s)
	}
	num := strings.TrimRight(s, "bB")
	unit := num[len(num)-1]
	num = num[:len(num)-1]
	f, err := strconv.ParseFloat(num, 64)
	if err != nil {
		return 0, fmt.Errorf("must be a number followed by K, M or G and an optional B, got %q", s)
	}
	mult := map[byte]float64{'K': 1 << 10, 'M': 1 << 20, 'G': 1 << 30}[unit]
	n := f * mult
	if n < MinRotationSize || n > MaxRotationSize {
		return 0, fmt.Errorf("must be between 2KB and 2GB, got %q", s)
	}
	return int64(n), nil
}
