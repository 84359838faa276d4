package planner

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/dubline/dubline/pipeline"
)

// WriteTable prints the plan for people: one row per job (id, audio
// seconds, tier, price, warnings), then totals by tag and the budget.
func (p *Plan) WriteTable(w io.Writer) error {
	// Job rows are padded by hand from precomputed widths: tabwriter would
	// hold all 100,000 rows of a big plan in memory until the end.
	idw, pw := len("JOB"), len("PRICE")
	for i := range p.Jobs {
		idw = max(idw, len(p.Jobs[i].ID))
		pw = max(pw, len(p.Jobs[i].Estimate.String()))
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	row := func(b []byte, cells ...string) []byte {
		widths := [...]int{idw, len("AUDIO S"), len("BILLED S"), len("<=10s"), len("RESULTS"), pw}
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
	bw.Write(row(b, "JOB", "AUDIO S", "BILLED S", "TIER", "RESULTS", "PRICE", "WARNINGS"))
	for i := range p.Jobs {
		j := &p.Jobs[i]
		warn := ""
		if len(j.Warnings) > 0 {
			warn = shortWarn(j.Warnings[0])
			if len(j.Warnings) > 1 {
				warn += " (+" + strconv.Itoa(len(j.Warnings)-1) + " more)"
			}
		}
		b = row(b[:0], j.ID, strconv.FormatFloat(j.AudioSeconds, 'f', 2, 64), strconv.Itoa(j.BillableSeconds), j.Tier,
			strconv.Itoa(j.Request.NumberResults()), j.Estimate.String(), warn)
		if _, err := bw.Write(b); err != nil {
			return err
		}
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TAG\tPRICE")
	for _, t := range p.Tags() {
		fmt.Fprintf(tw, "%s\t%s\n", t, p.ByTag[t])
	}
	fmt.Fprintf(tw, "TOTAL (%d jobs)\t%s\n", len(p.Jobs), p.Total)
	if p.Budget > 0 {
		state := "within budget"
		if p.OverBudget() {
			state = fmt.Sprintf("OVER BUDGET by %s", p.Total-p.Budget)
		}
		fmt.Fprintf(tw, "BUDGET\t%s (%s)\n", p.Budget, state)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if p.PriceBasis == "max" {
		fmt.Fprintln(w, "priced on max(audio, video) seconds (priceBasis: max)")
	}
	return nil
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

// jsonPlan is the machine-readable plan (`dubline plan --json`). Money is
// given twice: as integer units of $0.0001 (exact) and as USD.
type jsonPlan struct {
	Name        string           `json:"name"`
	Manifest    string           `json:"manifest"`
	PriceBasis  string           `json:"priceBasis"`
	Jobs        []jsonJob        `json:"jobs"`
	TotalUnits  int64            `json:"totalUnits"`
	TotalUSD    float64          `json:"totalUSD"`
	ByTagUnits  map[string]int64 `json:"byTagUnits"`
	BudgetUnits int64            `json:"budgetUnits,omitempty"`
	BudgetUSD   float64          `json:"budgetUSD,omitempty"`
	OverBudget  bool             `json:"overBudget"`
	Warnings    []string         `json:"warnings"`
}

type jsonJob struct {
	ID              string   `json:"id"`
	Video           string   `json:"video"`
	Audio           string   `json:"audio"`
	AudioSeconds    float64  `json:"audioSeconds"`
	VideoSeconds    float64  `json:"videoSeconds,omitempty"`
	BillableSeconds int      `json:"billableSeconds"`
	Tier            string   `json:"tier"`
	NumberResults   int      `json:"numberResults"`
	PriceUnits      int64    `json:"priceUnits"`
	PriceUSD        float64  `json:"priceUSD"`
	Tags            []string `json:"tags,omitempty"`
	OutputKeys      []string `json:"outputKeys"`
	Fingerprint     string   `json:"fingerprint"`
	Warnings        []string `json:"warnings,omitempty"`
}

// WriteJSON prints the plan as one JSON document.
func (p *Plan) WriteJSON(w io.Writer) error {
	out := jsonPlan{
		Name: p.Name, Manifest: p.Manifest, PriceBasis: p.PriceBasis,
		Jobs:       make([]jsonJob, len(p.Jobs)),
		TotalUnits: int64(p.Total), TotalUSD: p.Total.USD(),
		ByTagUnits:  map[string]int64{},
		BudgetUnits: int64(p.Budget), BudgetUSD: p.Budget.USD(),
		OverBudget: p.OverBudget(), Warnings: []string{},
	}
	for t, v := range p.ByTag {
		out.ByTagUnits[t] = int64(v)
	}
	for _, w := range p.Warnings {
		out.Warnings = append(out.Warnings, w.String())
	}
	for i := range p.Jobs {
		j := &p.Jobs[i]
		jj := jsonJob{
			ID: j.ID, Video: j.Video.String(), Audio: j.Audio.String(),
			AudioSeconds: j.AudioSeconds, VideoSeconds: j.VideoSeconds,
			BillableSeconds: j.BillableSeconds, Tier: j.Tier, NumberResults: j.Request.NumberResults(),
			PriceUnits: int64(j.Estimate), PriceUSD: j.Estimate.USD(),
			Tags: j.Tags, OutputKeys: j.OutputKeys, Fingerprint: j.Fingerprint,
		}
		for _, w := range j.Warnings {
			jj.Warnings = append(jj.Warnings, w.String())
		}
		out.Jobs[i] = jj
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false) // "<=5s", not "\u003c=5s"
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
