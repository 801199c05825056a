package bench

import (
	"io"
	"net/http"
	"sort"
	"sync"
	"time"
)

// GoLoad is the load generator used when wrk is not installed: conns
// keep-alive clients sending GETs back to back for d. It reports the same
// numbers as [ParseWrk]; being in-process Go it tops out lower than wrk, so
// its absolute numbers are not comparable to wrk's, only its ratios.
func GoLoad(url string, conns int, d time.Duration) WrkResult {
	var mu sync.Mutex
	var lat []time.Duration
	errs := 0
	var wg sync.WaitGroup
	end := time.Now().Add(d)
	for i := 0; i < conns; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
			var mine []time.Duration
			bad := 0
			for time.Now().Before(end) {
				start := time.Now()
				resp, err := c.Get(url)
				if err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode >= 400 {
						bad++
					}
				} else {
					bad++
				}
				mine = append(mine, time.Since(start))
			}
			mu.Lock()
			lat = append(lat, mine...)
			errs += bad
			mu.Unlock()
		}()
	}
	wg.Wait()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	r := WrkResult{RPS: float64(len(lat)) / d.Seconds(), Requests: int64(len(lat)), Errors: errs}
	if len(lat) > 0 {
		r.P99ms = float64(lat[len(lat)*99/100]) / float64(time.Millisecond)
	}
	return r
}
