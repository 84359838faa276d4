package planner

import (
	"fmt"
	"strings"

	"github.com/dubline/dubline/pipeline"
)

// diags collects problems and warnings while a plan is built.
type diags struct {
	errs  pipeline.Diags
	warns pipeline.Diags
}

func (d *diags) errf(pos pipeline.Pos, path, format string, args ...any) {
	d.errs = append(d.errs, pipeline.Diag{Pos: pos, Path: path, Msg: fmt.Sprintf(format, args...)})
}

func (d *diags) warnf(pos pipeline.Pos, path, format string, args ...any) {
	d.warns = append(d.warns, pipeline.Diag{Pos: pos, Path: path, Msg: fmt.Sprintf(format, args...)})
}

// fieldErr reports a problem with a field at its own position and path.
func fieldErr[T any](d *diags, f pipeline.Field[T], format string, args ...any) {
	d.errf(f.Pos, f.Path, format, args...)
}

// sortDiags orders problems by file, line, column so a user reads them
// top to bottom, and drops exact repeats.
func sortDiags(ds pipeline.Diags) pipeline.Diags { return ds.Sorted() }

func quoteList(vals []string) string { return strings.Join(vals, "|") }
