package console

// Charts are drawn on the server as inline SVG: no script, nothing to load, readable by a
// screen reader through their title and the table beside each one. Every text that comes
// from a job (stage names) is escaped.

import (
	"fmt"
	"html/template"
	"math"
	"strings"
	"time"

	"github.com/sparkplane/sparkplane/internal/cost"
	"github.com/sparkplane/sparkplane/internal/eventlog"
)

var esc = template.HTMLEscapeString

// barPart is one coloured part of a bar.
type barPart struct {
	Label string
	Class string // CSS colour: spot, ondemand, idle, driver, executors
	Value float64
}

// colours of the parts, as the stylesheet's legend swatches.
var partColour = map[string]string{"spot": "#1a7f37", "ondemand": "#0969da", "idle": "#bf8700", "driver": "#8250df", "executors": "#0969da",
	"ok": "#1a7f37", "bad": "#cf222e", "run": "#0969da", "muted": "#8c959f", "wait": "#bf8700"}

// stackedBar draws one horizontal bar split into parts, labelled with each part's share.
func stackedBar(title string, parts []barPart, currency string) template.HTML {
	total := 0.0
	for _, p := range parts {
		total += math.Max(p.Value, 0)
	}
	const w, h = 600.0, 28.0
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %.0f %.0f" role="img" aria-label="%s">`, w, h+18, esc(title))
	fmt.Fprintf(&b, `<title>%s</title>`, esc(title))
	if total <= 0 {
		fmt.Fprintf(&b, `<rect x="0" y="0" width="%.0f" height="%.0f" rx="4" fill="#eaeef2"/><text x="8" y="18">nothing charged yet</text></svg>`, w, h)
		return template.HTML(b.String())
	}
	x := 0.0
	for _, p := range parts {
		if p.Value <= 0 {
			continue
		}
		pw := w * p.Value / total
		fmt.Fprintf(&b, `<rect x="%.2f" y="0" width="%.2f" height="%.0f" fill="%s"><title>%s: %s (%.0f%%)</title></rect>`,
			x, pw, h, partColour[p.Class], esc(p.Label), esc(money(p.Value, currency)), 100*p.Value/total)
		if pw > 70 {
			fmt.Fprintf(&b, `<text x="%.2f" y="%.0f" class="on-bar">%s %.0f%%</text>`, x+6, h/2+4, esc(p.Label), 100*p.Value/total)
		}
		x += pw
	}
	fmt.Fprintf(&b, `<text x="0" y="%.0f">0</text><text x="%.0f" y="%.0f" text-anchor="end">%s</text></svg>`, h+14, w, h+14, esc(money(total, currency)))
	return template.HTML(b.String())
}

// dailyCostChart draws a virtual cluster's cost per day: spot, on-demand and idle stacked.
func dailyCostChart(days []cost.DayTotal, currency string) template.HTML {
	const w, h, left, bottom, top = 760.0, 260.0, 56.0, 36.0, 10.0
	max := 0.0
	for _, d := range days {
		max = math.Max(max, d.Totals.Spot+d.Totals.OnDemand+d.Idle)
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %.0f %.0f" role="img" aria-label="Cost per day: spot, on-demand and idle">`, w, h)
	b.WriteString(`<title>Cost per day: spot, on-demand and idle</title>`)
	if len(days) == 0 || max <= 0 {
		fmt.Fprintf(&b, `<text x="%.0f" y="%.0f" text-anchor="middle">no cost recorded in this range</text></svg>`, w/2, h/2)
		return template.HTML(b.String())
	}
	max = niceCeil(max)
	plotH := h - bottom - top
	for i := 0; i <= 4; i++ {
		y := top + plotH - plotH*float64(i)/4
		fmt.Fprintf(&b, `<line x1="%.0f" x2="%.0f" y1="%.1f" y2="%.1f" stroke="#d8dee4"/>`, left, w, y, y)
		fmt.Fprintf(&b, `<text x="%.0f" y="%.1f" text-anchor="end">%s</text>`, left-6, y+4, esc(money(max*float64(i)/4, currency)))
	}
	slot := (w - left) / float64(len(days))
	bw := math.Min(slot*0.7, 48)
	every := int(math.Ceil(float64(len(days)) / 12))
	for i, d := range days {
		x := left + slot*float64(i) + (slot-bw)/2
		y := top + plotH
		for _, p := range []barPart{{"Spot", "spot", d.Totals.Spot}, {"On-demand", "ondemand", d.Totals.OnDemand}, {"Idle nodes", "idle", d.Idle}} {
			if p.Value <= 0 {
				continue
			}
			ph := plotH * p.Value / max
			y -= ph
			fmt.Fprintf(&b, `<rect x="%.2f" y="%.2f" width="%.2f" height="%.2f" fill="%s"><title>%s %s: %s</title></rect>`,
				x, y, bw, ph, partColour[p.Class], esc(d.Day), esc(p.Label), esc(money(p.Value, currency)))
		}
		if i%every == 0 {
			fmt.Fprintf(&b, `<text x="%.2f" y="%.0f" text-anchor="middle">%s</text>`, x+bw/2, h-bottom+16, esc(strings.TrimPrefix(d.Day[min(5, len(d.Day)):], "")))
		}
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// niceCeil rounds v up to 1, 2 or 5 times a power of ten, for an axis.
func niceCeil(v float64) float64 {
	if v <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if v <= m*p {
			return m * p
		}
	}
	return 10 * p
}

// maxTimelineStages bounds the stage timeline; the table below it lists every stage.
const maxTimelineStages = 200

// stageTimeline draws when each stage ran, from the application's start, coloured by its
// status.
func stageTimeline(s *eventlog.Summary) template.HTML {
	stages := s.Stages
	if len(stages) > maxTimelineStages {
		stages = stages[:maxTimelineStages]
	}
	start := s.Application.StartTime
	end := s.Application.EndTime
	if end.IsZero() {
		end = s.Application.LastEventTime
	}
	for _, st := range stages {
		if start.IsZero() || (!st.SubmissionTime.IsZero() && st.SubmissionTime.Before(start)) {
			start = st.SubmissionTime
		}
		if st.CompletionTime.After(end) {
			end = st.CompletionTime
		}
	}
	const w, row, left, top = 760.0, 18.0, 170.0, 22.0
	h := top + row*float64(len(stages)) + 8
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %.0f %.0f" role="img" aria-label="Stage timeline: when each of %d stages ran">`, w, h, len(stages))
	fmt.Fprintf(&b, `<title>Stage timeline: when each of %d stages ran</title>`, len(stages))
	span := end.Sub(start)
	if len(stages) == 0 || start.IsZero() || span <= 0 {
		fmt.Fprintf(&b, `<text x="%.0f" y="16" text-anchor="middle">no stage has run</text></svg>`, w/2)
		return template.HTML(b.String())
	}
	scale := func(t time.Time) float64 { return left + (w-left-8)*float64(t.Sub(start))/float64(span) }
	for i := 0; i <= 4; i++ {
		x := left + (w-left-8)*float64(i)/4
		fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="%.0f" y2="%.0f" stroke="#d8dee4"/><text x="%.1f" y="12" text-anchor="middle">%s</text>`,
			x, x, top-4, h, x, esc(humanDuration(span*time.Duration(i)/4)))
	}
	for i, st := range stages {
		y := top + row*float64(i)
		name := fmt.Sprintf("%d: %s", st.StageID, st.Name)
		if len(name) > 28 {
			name = name[:27] + "…"
		}
		fmt.Fprintf(&b, `<text x="%.0f" y="%.1f" text-anchor="end">%s</text>`, left-6, y+12, esc(name))
		if st.SubmissionTime.IsZero() {
			continue
		}
		stop := st.CompletionTime
		if stop.IsZero() {
			stop = end
		}
		x1, x2 := scale(st.SubmissionTime), scale(stop)
		fmt.Fprintf(&b, `<rect x="%.2f" y="%.1f" width="%.2f" height="%.0f" rx="2" fill="%s"><title>stage %d (attempt %d) %s: %s, %d tasks, %s</title></rect>`,
			x1, y+3, math.Max(x2-x1, 2), row-6, partColour[stateClass(st.Status)], st.StageID, st.AttemptID, esc(st.Name), esc(st.Status), st.NumTasks,
			esc(humanDuration(time.Duration(st.DurationMs)*time.Millisecond)))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}
