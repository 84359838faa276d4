package pipeline

import (
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"strconv"
	"strings"
)

// csvJobs decodes a CSV file: a header row naming the fields (the job keys,
// with safety.checkContent and safety.mode flattened), then one job per
// row. An empty cell leaves the field unset.
func (st *state) csvJobs(s jobsSource, dir, head string, m *Manifest) {
	r := csv.NewReader(bytes.NewReader(s.data))
	r.FieldsPerRecord = -1 // row lengths are checked below, with a better message
	r.ReuseRecord = true
	filePath := head[:len(head)-1]
	header, err := r.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			st.diags.add(Pos{File: s.path}, filePath, "file is empty; it needs a header row naming the columns (id, video, audio, ...)")
		} else {
			st.csvError(s.path, filePath, err)
		}
		return
	}
	cols := st.csvHeader(r, header, s.path, filePath)
	ncols := len(header)
	need := uint32(jobOnlyMask) | paramMask&^st.defaultsSet
	for _, fi := range cols {
		if fi >= 0 {
			need |= 1 << fi
		}
	}
	for i := 0; ; {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			st.csvError(s.path, filePath, err)
			continue
		}
		line, _ := r.FieldPos(0)
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue // a row of blanks
		}
		ps := newPaths(itemPath(head, i), need)
		i++
		if len(rec) != ncols {
			st.diags.add(Pos{File: s.path, Line: line}, ps.job,
				"row has "+strconv.Itoa(len(rec))+" columns, the header has "+strconv.Itoa(ncols))
			continue
		}
		m.newJob(Pos{File: s.path, Line: line}, dir).Path = ps.job
		j := &m.Jobs[len(m.Jobs)-1]
		for c, cell := range rec {
			fi := cols[c]
			if fi < 0 {
				continue
			}
			if cell = strings.TrimSpace(cell); cell == "" {
				continue
			}
			cl, _ := r.FieldPos(c)
			st.setJobField(j, fi, cellLeaf(cell, Pos{File: s.path, Line: cl, Col: c + 1}), ps.f[fi])
		}
		finishJob(j, &ps, &m.Defaults)
	}
}

// csvHeader maps each column to a field number (-1 for unknown or repeated
// columns, which are reported).
func (st *state) csvHeader(r *csv.Reader, header []string, file, path string) []int {
	cols := make([]int, len(header))
	seen := make(map[int]int, len(header))
	for c, h := range header {
		if c == 0 {
			h = strings.TrimPrefix(h, "\uFEFF") // a byte-order mark from spreadsheet exports
		}
		h = strings.TrimSpace(h)
		line, _ := r.FieldPos(c)
		pos := Pos{File: file, Line: line, Col: c + 1}
		fi := csvColumns.lookup(h)
		cols[c] = fi
		switch {
		case fi < 0:
			st.diags.add(pos, path, unknownMsg(h, csvColumns, false))
		case seen[fi] > 0:
			st.diags.add(pos, path, "duplicate column "+quote(h)+" (first is column "+strconv.Itoa(seen[fi])+")")
			cols[c] = -1
		default:
			seen[fi] = c + 1
		}
	}
	return cols
}

func (st *state) csvError(file, path string, err error) {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		st.diags.add(Pos{File: file, Line: pe.Line}, path, "invalid CSV: "+pe.Err.Error())
		return
	}
	st.diags.add(Pos{File: file}, path, "invalid CSV: "+err.Error())
}
