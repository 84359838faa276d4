package kling

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Price is an amount of money in integer units of $0.0001. All of the
// model's prices are whole multiples of that unit, so sums never drift the
// way float dollars would.
type Price int64

// Units per US dollar.
const PerUSD Price = 10000

// The price rule from the model page: $0.0462 for up to 5 s, $0.0924 for up
// to 10 s, then $0.0092 per additional (started) second, per result.
const (
	tier1Seconds = 5
	tier2Seconds = 10
	tier1Price   = Price(462)
	tier2Price   = Price(924)
	perSecond    = Price(92)
)

// BillableSeconds is the number of seconds the page's tiers count: the
// duration rounded up to a whole second. Rounding is not documented by
// Runware; the tier labels ("1-5 seconds", "6-10 seconds") imply whole
// seconds, and rounding up is the choice that never under-estimates.
// A tiny epsilon absorbs float noise from container timescales
// (e.g. 5.0000000001 s is 5 s, not 6).
func BillableSeconds(seconds float64) int {
	if seconds <= 0 {
		return 0
	}
	return int(math.Ceil(seconds - 1e-6))
}

// PriceFor returns the price of one result for the given billable seconds.
func PriceFor(billable int) Price {
	switch {
	case billable <= tier1Seconds:
		return tier1Price
	case billable <= tier2Seconds:
		return tier2Price
	default:
		return tier2Price + perSecond*Price(billable-tier2Seconds)
	}
}

// JobPrice is the price of a job: PriceFor(ceil(seconds)) times results.
func JobPrice(seconds float64, numberResults int) Price {
	if numberResults < 1 {
		numberResults = 1
	}
	return PriceFor(BillableSeconds(seconds)) * Price(numberResults)
}

// Tier names the price tier for billable seconds: "<=5s", "<=10s" or "10s+".
func Tier(billable int) string {
	switch {
	case billable <= tier1Seconds:
		return "<=5s"
	case billable <= tier2Seconds:
		return "<=10s"
	default:
		return ">10s"
	}
}

// TierSaving reports whether seconds lie just over a tier boundary (within
// slack seconds), and if so the boundary and how much trimming to it would
// save per result. Only the two real steps (5 s and 10 s) count; above
// 10 s every second costs the same, so trimming is linear, not a cliff.
func TierSaving(seconds, slack float64) (boundary int, saving Price, ok bool) {
	b := BillableSeconds(seconds)
	for _, edge := range []int{tier1Seconds, tier2Seconds} {
		if seconds > float64(edge)+1e-6 && seconds <= float64(edge)+slack {
			return edge, PriceFor(b) - PriceFor(edge), true
		}
	}
	return 0, 0, false
}

// USD returns the price as a float number of dollars, for JSON reports.
func (p Price) USD() float64 { return float64(p) / float64(PerUSD) }

// String formats the price as dollars with four decimals: "$0.0462".
func (p Price) String() string {
	sign := ""
	if p < 0 {
		sign, p = "-", -p
	}
	b := make([]byte, 0, 16)
	b = append(b, sign...)
	b = append(b, '$')
	b = strconv.AppendInt(b, int64(p/PerUSD), 10)
	frac := strconv.AppendInt(make([]byte, 0, 4), int64(p%PerUSD)+int64(PerUSD), 10) // "1xxxx": zero-padded to 4
	b = append(b, '.')
	return string(append(b, frac[1:]...))
}

// ParseUSD parses a decimal dollar amount ("40", "40.5", "0.0462") exactly,
// without going through a float. More than four decimals is an error,
// because the amount could not be represented in units of $0.0001.
func ParseUSD(s string) (Price, error) {
	s = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(s), "$"))
	if s == "" {
		return 0, fmt.Errorf("empty amount")
	}
	if strings.HasPrefix(s, "-") {
		return 0, fmt.Errorf("%q is negative", s)
	}
	whole, frac, _ := strings.Cut(s, ".")
	if whole == "" {
		whole = "0"
	}
	if len(frac) > 4 {
		return 0, fmt.Errorf("%q has more than 4 decimal places (the unit is $0.0001)", s)
	}
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || strings.HasPrefix(whole, "+") {
		return 0, fmt.Errorf("%q is not a dollar amount", s)
	}
	f := int64(0)
	if frac != "" {
		f, err = strconv.ParseInt(frac+strings.Repeat("0", 4-len(frac)), 10, 64)
		if err != nil || strings.HasPrefix(frac, "+") || strings.HasPrefix(frac, "-") {
			return 0, fmt.Errorf("%q is not a dollar amount", s)
		}
	}
	if w > math.MaxInt64/int64(PerUSD)-1 {
		return 0, fmt.Errorf("%q is too large", s)
	}
	return Price(w)*PerUSD + Price(f), nil
}

// FromUSD converts a float dollar amount reported by the API (the `cost`
// field) to units, rounding to the nearest unit.
func FromUSD(usd float64) Price { return Price(math.Round(usd * float64(PerUSD))) }
