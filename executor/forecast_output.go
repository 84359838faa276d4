package executor

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/dubline/dubline/kling"
	"github.com/dubline/dubline/pipeline"
	"github.com/dubline/dubline/planner"
)

// WriteTable prints the forecast for people: one row per selected job
// (id, action, audio seconds, tier, results, price), then what the run
// will submit by tag, the summary line and the budget.
func (f *Forecast) WriteTable(w io.Writer) error {
	// Job rows are padded by hand from precomputed widths: tabwriter would
	// hold all 100,000 rows of a big plan in memory until the end.
	idw, aw, pw := len("JOB"), len("ACTION"), len("PRICE")
	for _, j := range f.Jobs {
		idw = max(idw, len(j.Job.ID))
		aw = max(aw, len(j.Action))
		pw = max(pw, len(j.Est.String())+2)
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	row := func(b []byte, cells ...string) []byte {
		widths := [...]int{idw, aw, len("AUDIO S"), len("BILLED S"), len("<=10s"), len("RESULTS"), pw}
		for i, c := range cells {
			b = append(b, c...)
			if i < len(widths) && i < len(cells)-1 {
				for n := len(c); n < widths[i]; n++ {
					b = append(b, ' ')
				}
				b = append(b, ' ', ' ')
			}
		}
		return append(bytes.TrimRight(b, " "), '\n')
	}
	var b []byte
	bw.Write(row(b, "JOB", "ACTION", "AUDIO S", "BILLED S", "TIER", "RESULTS", "PRICE", "NOTES"))
	for _, fj := range f.Jobs {
		j := fj.Job
		price := "-" // nothing new is paid for
		if fj.Submits() {
			price = fj.Est.String()
			if !fj.Fits {
				price = "(" + price + ")" // over budget: not submitted
			}
		}
		notes := fj.Note
		if fj.Quote > 0 && fj.Quote != j.Estimate {
			notes = joinNote(notes, fmt.Sprintf("Runware quotes %s, the price rule %s", fj.Quote, j.Estimate))
		}
		if fj.Submits() && !fj.Fits {
			notes = joinNote("over budget: not submitted", notes)
		}
		if len(j.Warnings) > 0 {
			warn := shortWarn(j.Warnings[0])
			if len(j.Warnings) > 1 {
				warn += " (+" + strconv.Itoa(len(j.Warnings)-1) + " more)"
			}
			notes = joinNote(notes, warn)
		}
		b = row(b[:0], j.ID, fj.Action, strconv.FormatFloat(j.AudioSeconds, 'f', 2, 64), strconv.Itoa(j.BillableSeconds), j.Tier,
			strconv.Itoa(j.Request.NumberResults()), price, notes)
		if _, err := bw.Write(b); err != nil {
			return err
		}
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	tags := f.byTag()
	if len(tags) > 0 {
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "TAG\tTO RUN\tPRICE\tAUDIO MIN")
		for _, t := range tags {
			fmt.Fprintf(tw, "%s\t%d\t%s\t%.1f\n", t.Tag, t.Jobs, t.Cost, t.AudioMinutes)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		fmt.Fprintln(w, "(a job with several tags counts under each)")
	}
	fmt.Fprintln(w, f.Summary())
	if line := f.QuoteLine(); line != "" {
		fmt.Fprintln(w, line)
	}
	if line := f.budgetLine(); line != "" {
		fmt.Fprintln(w, line)
	}
	if f.Plan.PriceBasis == "max" {
		fmt.Fprintln(w, "priced on max(audio, video) seconds (priceBasis: max)")
	}
	return nil
}

// Summary is the one-line account: "12 to run ($1.2348); 9,988 up to
// date; 3 changed (use --only changed)".
func (f *Forecast) Summary() string {
	t := f.Totals()
	parts := []string{fmt.Sprintf("%s to run (%s)", count(t.ToRun), t.ToRunCost)}
	add := func(n int, what string) {
		if n > 0 {
			parts = append(parts, count(n)+" "+what)
		}
	}
	upToDate := "up to date"
	if !f.Checked {
		upToDate = "up to date (outputs not checked)"
	}
	add(t.Counts[ActionSkip], upToDate)
	add(t.Counts[ActionChanged], "changed (use --only changed)")
	add(t.Counts[ActionResume], "in flight (resumed, already counted)")
	add(t.Counts[ActionUnverified], "not checked (destination unreachable)")
	add(t.ToRun-t.Fitting, "over budget")
	return strings.Join(parts, "; ")
}

// QuoteLine compares the price rule with Runware's quotes over the jobs
// to run ("" when none was quoted).
func (f *Forecast) QuoteLine() string {
	var rule, quote kling.Price
	quoted, differ := 0, 0
	for _, j := range f.Jobs {
		if !j.Submits() || j.Quote == 0 {
			continue
		}
		quoted++
		rule += j.Job.Estimate
		quote += j.Quote
		if j.Quote != j.Job.Estimate {
			differ++
		}
	}
	if quoted == 0 {
		return ""
	}
	line := fmt.Sprintf("quotes: Runware's dry runs price the %d quoted jobs to run at %s, the price rule at %s", quoted, quote, rule)
	if differ > 0 {
		line += fmt.Sprintf("; they differ for %d jobs: each reserves the larger", differ)
	}
	return line
}

func (f *Forecast) budgetLine() string {
	if f.Plan.Budget == 0 {
		return ""
	}
	t := f.Totals()
	win := "a new budget window opens with the first submission"
	if !f.Window.Start.IsZero() {
		win = fmt.Sprintf("budget window %s to %s: spent %s, reserved %s",
			f.Window.Start.Format(time.RFC3339), f.Window.End.Format(time.RFC3339), f.Window.Spent, f.Window.Reserved)
	}
	return fmt.Sprintf("budget %s; %s; %s left: %d of %d to run fit (%s)",
		f.Plan.Budget, win, f.Left, t.Fitting, t.ToRun, t.FitCost)
}

// count writes n with thousands separators (9,988).
func count(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// shortWarn is a warning's message without its position, for a table cell.
func shortWarn(d pipeline.Diag) string {
	msg := d.Msg
	if len(msg) > 60 {
		if i := strings.IndexAny(msg, ";("); i > 0 {
			msg = strings.TrimSpace(msg[:i])
		}
	}
	return msg
}

// tagTotal is what the run submits under one tag.
type tagTotal struct {
	Tag          string
	Jobs         int
	Cost         kling.Price
	AudioMinutes float64
}

// byTag sums the jobs to submit per tag, in tag order; a job with several
// tags counts under each.
func (f *Forecast) byTag() []tagTotal {
	m := map[string]*tagTotal{}
	for _, fj := range f.Jobs {
		tags := fj.Job.Tags
		if len(tags) == 0 {
			tags = []string{planner.Untagged}
		}
		for _, t := range tags {
			tt := m[t]
			if tt == nil {
				tt = &tagTotal{Tag: t}
				m[t] = tt
			}
			if fj.Submits() {
				tt.Jobs++
				tt.Cost += fj.Est
				tt.AudioMinutes += fj.Job.AudioSeconds / 60
			}
		}
	}
	out := make([]tagTotal, 0, len(m))
	for _, tt := range m {
		out = append(out, *tt)
	}
	slices.SortFunc(out, func(a, b tagTotal) int {
		if (a.Tag == planner.Untagged) != (b.Tag == planner.Untagged) {
			if a.Tag == planner.Untagged {
				return 1
			}
			return -1
		}
		return strings.Compare(a.Tag, b.Tag)
	})
	return out
}

// jsonForecast is the machine-readable forecast (`dubline plan --json`).
// Money is given twice: as integer units of $0.0001 (exact) and as USD.
type jsonForecast struct {
	Name       string              `json:"name"`
	Manifest   string              `json:"manifest"`
	PriceBasis string              `json:"priceBasis"`
	Summary    string              `json:"summary"`
	Jobs       []jsonForecastJob   `json:"jobs"`
	Actions    map[string]int      `json:"actions"` // job counts by action
	ToRun      jsonMoneyCount      `json:"toRun"`
	Fitting    jsonMoneyCount      `json:"fitting"` // the part of toRun the budget allows
	ByTag      map[string]jsonTag  `json:"byTag"`
	TagNote    string              `json:"tagNote"`
	Budget     *jsonForecastBudget `json:"budget,omitempty"`
	OverBudget bool                `json:"overBudget"`
	Checked    bool                `json:"outputsChecked"`
	Warnings   []string            `json:"warnings"`
	// PlanTotal prices every selected job as if all were submitted.
	PlanTotal jsonMoneyCount `json:"planTotal"`
}

type jsonMoneyCount struct {
	Jobs  int     `json:"jobs"`
	Units int64   `json:"units"`
	USD   float64 `json:"usd"`
}

type jsonTag struct {
	Jobs         int     `json:"jobs"`
	Units        int64   `json:"units"`
	USD          float64 `json:"usd"`
	AudioMinutes float64 `json:"audioMinutes"`
}

type jsonForecastBudget struct {
	Units       int64      `json:"units"`
	USD         float64    `json:"usd"`
	LeftUSD     float64    `json:"leftUSD"`
	WindowStart *time.Time `json:"windowStart,omitempty"`
	WindowEnd   *time.Time `json:"windowEnd,omitempty"`
	SpentUSD    float64    `json:"spentUSD"`
	ReservedUSD float64    `json:"reservedUSD"`
}

type jsonForecastJob struct {
	ID              string   `json:"id"`
	Action          string   `json:"action"`
	Submits         bool     `json:"submits"`
	Fits            bool     `json:"fits"`
	Note            string   `json:"note,omitempty"`
	Video           string   `json:"video"`
	Audio           string   `json:"audio"`
	AudioSeconds    float64  `json:"audioSeconds"`
	VideoSeconds    float64  `json:"videoSeconds,omitempty"`
	BillableSeconds int      `json:"billableSeconds"`
	Tier            string   `json:"tier"`
	NumberResults   int      `json:"numberResults"`
	PriceUnits      int64    `json:"priceUnits"` // what a task reserves: the estimate, or the quote when larger
	PriceUSD        float64  `json:"priceUSD"`
	EstimateUSD     float64  `json:"estimateUSD"`        // the price rule
	QuoteUSD        *float64 `json:"quoteUSD,omitempty"` // Runware's dry-run price
	Tags            []string `json:"tags,omitempty"`
	OutputKeys      []string `json:"outputKeys"`
	Fingerprint     string   `json:"fingerprint"`
	Warnings        []string `json:"warnings,omitempty"`
}

func money(n int, p kling.Price) jsonMoneyCount {
	return jsonMoneyCount{Jobs: n, Units: int64(p), USD: p.USD()}
}

// WriteJSON prints the forecast as one JSON document.
func (f *Forecast) WriteJSON(w io.Writer) error {
	t := f.Totals()
	p := f.Plan
	out := jsonForecast{
		Name: p.Name, Manifest: p.Manifest, PriceBasis: p.PriceBasis, Summary: f.Summary(),
		Jobs: make([]jsonForecastJob, len(f.Jobs)), Actions: t.Counts,
		ToRun: money(t.ToRun, t.ToRunCost), Fitting: money(t.Fitting, t.FitCost),
		ByTag: map[string]jsonTag{}, TagNote: "a job with several tags counts under each",
		OverBudget: f.OverBudget(), Checked: f.Checked, Warnings: []string{},
	}
	var all kling.Price
	for _, tt := range f.byTag() {
		out.ByTag[tt.Tag] = jsonTag{Jobs: tt.Jobs, Units: int64(tt.Cost), USD: tt.Cost.USD(), AudioMinutes: tt.AudioMinutes}
	}
	if p.Budget > 0 {
		out.Budget = &jsonForecastBudget{Units: int64(p.Budget), USD: p.Budget.USD(), LeftUSD: f.Left.USD(),
			WindowStart: timePtr(f.Window.Start), WindowEnd: timePtr(f.Window.End),
			SpentUSD: f.Window.Spent.USD(), ReservedUSD: f.Window.Reserved.USD()}
	}
	for _, d := range p.Warnings {
		out.Warnings = append(out.Warnings, d.String())
	}
	for i, fj := range f.Jobs {
		j := fj.Job
		all += fj.Est
		jj := jsonForecastJob{
			ID: j.ID, Action: fj.Action, Submits: fj.Submits(), Fits: fj.Fits, Note: fj.Note,
			Video: j.Video.String(), Audio: j.Audio.String(),
			AudioSeconds: j.AudioSeconds, VideoSeconds: j.VideoSeconds,
			BillableSeconds: j.BillableSeconds, Tier: j.Tier, NumberResults: j.Request.NumberResults(),
			PriceUnits: int64(fj.Est), PriceUSD: fj.Est.USD(), EstimateUSD: j.Estimate.USD(),
			Tags: j.Tags, OutputKeys: j.OutputKeys, Fingerprint: j.Fingerprint,
		}
		if fj.Quote > 0 {
			jj.QuoteUSD = usdPtr(fj.Quote)
		}
		for _, d := range j.Warnings {
			jj.Warnings = append(jj.Warnings, d.String())
		}
		out.Jobs[i] = jj
	}
	out.PlanTotal = money(len(f.Jobs), all)
	if out.Actions == nil {
		out.Actions = map[string]int{}
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false) // "<=5s", not "\u003c=5s"
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
