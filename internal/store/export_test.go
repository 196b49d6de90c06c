package store_test

import "time"

var storetestTime = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
