package tmpl

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"text/template"
)

// funcs returns env, mul, add, max, min and the bounded printf, print and
// println, each charging b. getenv and b may be nil at parse time, when
// only the names matter.
func funcs(getenv func(string) (string, bool), b *evalBudget) template.FuncMap {
	if b == nil {
		b = &evalBudget{}
	}
	return template.FuncMap{
		"env": func(name string, def ...string) (string, error) {
			if getenv != nil {
				if v, ok := getenv(name); ok {
					if len(v) > MaxLineSize {
						return "", fmt.Errorf("environment variable %s is %d bytes long, longer than a line may be (%d)", name, len(v), MaxLineSize)
					}
					return v, b.spend(len(v))
				}
			}
			if len(def) > 0 {
				return def[0], nil
			}
			return "", fmt.Errorf("environment variable %s is not set (give a default: env %q \"VALUE\")", name, name)
		},
		"mul": func(a any, rest ...any) (int, error) { return fold("mul", a, rest, mulChecked) },
		"add": func(a any, rest ...any) (int, error) { return fold("add", a, rest, addChecked) },
		"max": func(a any, rest ...any) (int, error) {
			return fold("max", a, rest, func(x, y int) (int, bool) { return max(x, y), true })
		},
		"min": func(a any, rest ...any) (int, error) {
			return fold("min", a, rest, func(x, y int) (int, bool) { return min(x, y), true })
		},
		"printf": func(format string, args ...any) (string, error) {
			if err := b.spend(printfBound(format, args)); err != nil {
				return "", err
			}
			return fmt.Sprintf(format, args...), nil
		},
		"print": func(args ...any) (string, error) {
			if err := b.spend(printBound(args)); err != nil {
				return "", err
			}
			return fmt.Sprint(args...), nil
		},
		"println": func(args ...any) (string, error) {
			if err := b.spend(printBound(args)); err != nil {
				return "", err
			}
			return fmt.Sprintln(args...), nil
		},
	}
}

// mulChecked and addChecked report false when the result overflows an int,
// which would wrap to a negative or tiny number: maxconnrate -2 reads as
// 4294967294 to haproxy, and a wrapped 0 as no limit at all.
func mulChecked(x, y int) (int, bool) {
	if x == 0 || y == 0 {
		return 0, true
	}
	p := x * y
	if p/y != x || (x == -1 && y == math.MinInt) || (y == -1 && x == math.MinInt) {
		return 0, false
	}
	return p, true
}

func addChecked(x, y int) (int, bool) {
	s := x + y
	if (y > 0 && s < x) || (y < 0 && s > x) {
		return 0, false
	}
	return s, true
}

func fold(name string, a any, rest []any, op func(x, y int) (int, bool)) (int, error) {
	acc, err := toInt(a)
	if err != nil {
		return 0, err
	}
	for _, b := range rest {
		n, err := toInt(b)
		if err != nil {
			return 0, err
		}
		r, ok := op(acc, n)
		if !ok {
			return 0, fmt.Errorf("%s of %d and %d overflows a 64-bit integer", name, acc, n)
		}
		acc = r
	}
	return acc, nil
}

// toInt accepts integers and integer strings (such as an env value).
func toInt(v any) (int, error) {
	switch x := v.(type) {
	case int:
		return x, nil
	case int64:
		return int(x), nil
	case string:
		n, err := strconv.Atoi(strings.TrimSpace(x))
		if err != nil {
			return 0, fmt.Errorf("%q is not an integer", x)
		}
		return n, nil
	}
	return 0, fmt.Errorf("%v is not an integer", v)
}

// printfSlack covers what a verb adds beyond its argument and its width and
// precision: a number's digits (64 in binary), a sign, a prefix, or the
// "%!d(string=...)" of a mismatched verb.
const printfSlack = 80

// printfBound is an upper bound of the length of fmt.Sprintf(format,
// args...), computed without formatting: each verb prints one argument at
// most, at most four times its length (%q escapes a byte as \x00), padded
// to its width and precision (fmt caps each at 1e6; a * takes one from an
// argument). Charging the bound before formatting keeps "%0999999d" from
// allocating a megabyte, and %[1]s repeated from printing one long
// argument thousands of times.
func printfBound(format string, args []any) int {
	// Without explicit argument indexes verb k prints argument k; with them
	// any verb may print the longest one.
	indexed := strings.IndexByte(format, '[') >= 0
	widest, star := 0, 0
	for _, a := range args {
		widest = max(widest, argBound(a))
		if n, ok := a.(int); ok {
			star = max(star, min(abs(n), 1e6))
		}
	}
	total, k := len(format), 0
	for i := 0; i < len(format); i++ {
		if format[i] != '%' {
			continue
		}
		pad, num := 0, 0
		j := i + 1
		for ; j < len(format); j++ {
			c := format[j]
			if c >= '0' && c <= '9' {
				num = min(num*10+int(c-'0'), 1e6)
				continue
			}
			pad, num = pad+num, 0
			if c == '*' {
				pad += star
				k++
				continue
			}
			if strings.IndexByte("+-# .[]", c) < 0 {
				break // the verb
			}
		}
		pad += num
		verb := byte('v')
		if j < len(format) {
			verb = format[j]
		}
		arg := widest
		if !indexed {
			arg = 0
			if k < len(args) {
				arg = argBound(args[k])
			}
		}
		if verb != '%' {
			k++
		}
		total += pad + printfSlack + expansion(verb)*arg
		i = j
	}
	// Arguments no verb printed are appended, "%!(EXTRA int=1, ...)",
	// unless the format names arguments by index.
	if !indexed && k < len(args) {
		for _, a := range args[k:] {
			total += argBound(a) + 16
		}
	}
	return total
}

// expansion is how many bytes a verb may print per byte of its argument.
func expansion(verb byte) int {
	switch verb {
	case 'q', 'x', 'X', 'U':
		return 4
	case '%':
		return 0
	}
	return 1
}

// printBound is an upper bound of the length of fmt.Sprint(args...) and
// fmt.Sprintln(args...).
func printBound(args []any) int {
	total := 1
	for _, a := range args {
		total += argBound(a) + 1
	}
	return total
}

// argBound is an upper bound of the length of a template value printed
// with %v.
func argBound(a any) int {
	switch x := a.(type) {
	case string:
		return len(x)
	case nil, bool, int, int64:
		return 64
	case float64, complex128:
		// %f of 1e300 prints all its 301 digits, twice for a complex.
		return 700
	}
	// The context (.): its section name comes from the config, not the
	// snippet.
	return len(fmt.Sprint(a))
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
