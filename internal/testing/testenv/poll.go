package testenv

import (
	"context"
	"fmt"
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

// EventuallyNoError is Eventually for a step that fails with an error
// until it works, such as asking haproxy's admin socket while haproxy
// starts; each try gets a context of its own, bounded by a second.
func EventuallyNoError(t testing.TB, timeout time.Duration, what string, try func(ctx context.Context) error) {
	t.Helper()
	Eventually(t, timeout, what, func() (bool, string) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		err := try(ctx)
		return err == nil, fmt.Sprint(err)
	})
}
