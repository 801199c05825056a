package bench

import (
	"math"
	"slices"
	"time"
)

// The statistics behind every verdict of BENCHMARKS.md. A comparison is
// measured in rounds: each round runs every side once, in an order that
// rotates from round to round (see [Order]), and gives one value of the
// statistic compared (a difference or a ratio of the sides of that round).
// The machine is shared and its speed drifts, so a value only ever sets
// sides of the same round against each other, and the rounds' values are
// summed up by their median, which a few disturbed rounds do not move.
//
// How far the median can be trusted is said twice: by its own 95%
// confidence interval (distribution-free, from order statistics), and by
// the noise band, the same measurement of a side against itself (an A/A
// comparison, direct against direct) in the same rounds. The A/A value is
// no difference by construction, so what its interval shows is what the
// method reports when there is nothing to see. A verdict is PASS or MISS
// only when the measured interval, widened by that band, lies on one side
// of the goal; otherwise it is NOISE.

// Median returns the median of xs (0 for none).
func Median(xs []float64) float64 { return Quantile(xs, 0.5) }

// Quantile returns the q-quantile of xs (0 <= q <= 1), interpolating
// linearly between order statistics (R's type 7); 0 for none. xs is not
// reordered.
func Quantile(xs []float64, q float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	h := q * float64(len(s)-1)
	lo := int(math.Floor(h))
	if lo >= len(s)-1 {
		return s[len(s)-1]
	}
	return s[lo] + (h-float64(lo))*(s[lo+1]-s[lo])
}

// IQR returns the first and third quartiles of xs.
func IQR(xs []float64) (q1, q3 float64) { return Quantile(xs, 0.25), Quantile(xs, 0.75) }

// MedianCI returns a 95% confidence interval of the median of xs that
// assumes nothing of their distribution: the order statistics x(k) and
// x(n+1-k) with k the largest index such that a Binomial(n, 1/2) falls
// below k with probability at most 2.5%. With fewer than 6 values no such
// k exists and the interval is the whole range.
func MedianCI(xs []float64) (lo, hi float64) {
	n := len(xs)
	if n == 0 {
		return 0, 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	k := medianCIRank(n)
	if k == 0 {
		return s[0], s[n-1]
	}
	return s[k-1], s[n-k]
}

// medianCIRank is MedianCI's k (1-based), 0 when even the extremes do not
// give 95%.
func medianCIRank(n int) int {
	// P(B <= j) for B ~ Binomial(n, 1/2), accumulated in log space so that
	// large n does not overflow.
	k := 0
	cum := 0.0
	for j := 0; j < n; j++ {
		cum += math.Exp(lchoose(n, j) - float64(n)*math.Ln2)
		if cum > 0.025 {
			break
		}
		k = j + 1
	}
	return k
}

func lchoose(n, k int) float64 {
	a, _ := math.Lgamma(float64(n + 1))
	b, _ := math.Lgamma(float64(k + 1))
	c, _ := math.Lgamma(float64(n - k + 1))
	return a - b - c
}

// Diffs returns a[i] - b[i] for every round both sides have.
func Diffs(a, b []float64) []float64 {
	out := make([]float64, min(len(a), len(b)))
	for i := range out {
		out[i] = a[i] - b[i]
	}
	return out
}

// Ratios returns a[i] / b[i] for every round both sides have and b[i] is
// not 0.
func Ratios(a, b []float64) []float64 {
	var out []float64
	for i := range min(len(a), len(b)) {
		if b[i] != 0 {
			out = append(out, a[i]/b[i])
		}
	}
	return out
}

// Estimate sums up the rounds' values of one statistic.
type Estimate struct {
	// Median is the estimate; Q1 and Q3 the rounds' interquartile range;
	// Lo and Hi the median's 95% confidence interval (see [MedianCI]).
	Median, Q1, Q3, Lo, Hi float64
	// N is the number of rounds.
	N int
}

// Estimated sums up xs.
func Estimated(xs []float64) Estimate {
	e := Estimate{Median: Median(xs), N: len(xs)}
	e.Q1, e.Q3 = IQR(xs)
	e.Lo, e.Hi = MedianCI(xs)
	return e
}

// Kind says how a statistic compares the sides: by their difference (no
// difference is 0) or their ratio (no difference is 1).
type Kind int

// The kinds of statistic.
const (
	Difference Kind = iota
	Ratio
)

// Band returns the noise band of a statistic of kind k from its A/A
// values: how far from no difference the A/A median's confidence interval
// reaches, on either side. For a difference it is in the statistic's unit;
// for a ratio it is a factor less 1 (0.02 is 2%, either way: 1.02 or
// 1/1.02), since ratios spread by factors.
func Band(k Kind, aa []float64) float64 {
	if len(aa) == 0 {
		return 0
	}
	lo, hi := MedianCI(aa)
	if k == Ratio {
		if lo <= 0 {
			return math.Inf(1)
		}
		return max(hi, 1/lo, 1) - 1
	}
	return max(math.Abs(lo), math.Abs(hi))
}

// Verdicts.
const (
	Pass  = "PASS"
	Miss  = "MISS"
	Noise = "NOISE"
)

// Goal is a bound a statistic should keep.
type Goal struct {
	// Limit is the bound; AtLeast makes it a lower one (otherwise the
	// statistic should be at most Limit).
	Limit   float64
	AtLeast bool
}

// Interval is what a measurement allows the true value to be: the
// median's confidence interval, widened on each side to at least the noise
// band around the median (by the factor 1 + band for a ratio).
func Interval(k Kind, e Estimate, band float64) (lo, hi float64) {
	if k == Ratio {
		return min(e.Lo, e.Median/(1+band)), max(e.Hi, e.Median*(1+band))
	}
	return min(e.Lo, e.Median-band), max(e.Hi, e.Median+band)
}

// Judge gives the verdict of the interval [lo, hi] against g: PASS when it
// lies wholly within the goal, MISS when wholly outside, NOISE when it
// straddles the limit.
func Judge(g Goal, lo, hi float64) string {
	if g.AtLeast {
		switch {
		case lo >= g.Limit:
			return Pass
		case hi < g.Limit:
			return Miss
		}
		return Noise
	}
	switch {
	case hi <= g.Limit:
		return Pass
	case lo > g.Limit:
		return Miss
	}
	return Noise
}

// Order returns the order in which round i runs its k sides: every
// permutation of 0..k-1 in turn, so that over k! rounds each side runs
// in each place equally often and a drift in the machine's speed, or what
// one side leaves in the caches for the next, favours none.
func Order(i, k int) []int {
	perms := permutations(k)
	return slices.Clone(perms[i%len(perms)])
}

// permutations lists the permutations of 0..k-1 in lexicographic order.
func permutations(k int) [][]int {
	if k <= 0 {
		return [][]int{{}}
	}
	var out [][]int
	for _, p := range permutations(k - 1) {
		for pos := 0; pos <= len(p); pos++ {
			q := make([]int, 0, k)
			q = append(q, p[:pos]...)
			q = append(q, k-1)
			q = append(q, p[pos:]...)
			out = append(out, q)
		}
	}
	slices.SortFunc(out, slices.Compare)
	return out
}

// Millis converts a duration to milliseconds.
func Millis(d time.Duration) float64 {
	return float64(d) / float64(time.Millisecond)
}
