package testenv

import (
	"testing"
	"time"
)

// PollInterval is how often Eventually asks its condition again.
const PollInterval = 50 * time.Millisecond

// Eventually asks cond every PollInterval until it holds, and fails the
// test once timeout has passed without it; the failure message is what,
// then cond's last explanation. It is the tests' bounded alternative to
// sleeping for a guessed time.
func Eventually(t testing.TB, timeout time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, why := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s: %s", what, timeout, why)
		}
		time.Sleep(PollInterval)
	}
}
